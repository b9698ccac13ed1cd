// The engine's Prometheus series, named as dockerd's (daemon/metrics.go), so
// dashboards built for `dockerd --metrics-addr` read them:
//   engine_daemon_container_states_containers{state}   running | paused | stopped
//   engine_daemon_container_actions_seconds{action}    start (histogram; the action dockerd dashboards plot)
//   engine_daemon_image_actions_seconds{action}        pull (histogram; its _count is the pulls made)
//   engine_daemon_events_total                         events the engine emitted
// Action timings are recorded where the actions run (start-container.ts,
// pull-push.ts) into this module's registry; the state and event series are
// read from the engine `tug daemon` serves (watchEngine).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Engine } from './engine.js';
import { secondsSince } from '../util/metrics-registry.js';

export const engineRegistry = new Registry();

// dockerd's buckets (prometheus.DefBuckets).
const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const containerActions = new Histogram({ name: 'engine_daemon_container_actions_seconds', help: 'The number of seconds it takes to process each container action', labelNames: ['action'], buckets, registers: [engineRegistry] });
const imageActions = new Histogram({ name: 'engine_daemon_image_actions_seconds', help: 'The number of seconds it takes to process each image action', labelNames: ['action'], buckets, registers: [engineRegistry] });

/** Times one container action (start, create, delete) from startMs (performance.now()). */
export const recordContainerAction = (action: string, startMs: number): void => containerActions.observe({ action }, secondsSince(startMs));
export const recordImageAction = (action: string, startMs: number): void => imageActions.observe({ action }, secondsSince(startMs));

let watched: Engine | undefined;
let events: Counter | undefined;

/** Reads the container and event series from this engine (once per process: the one `tug daemon` serves). */
export function watchEngine(engine: Engine): void {
  if (watched) return;
  watched = engine;
  events = new Counter({ name: 'engine_daemon_events_total', help: 'The number of events logged', registers: [engineRegistry] });
  const counter = events;
  engine.events.subscribe(() => counter.inc());
  new Gauge({
    name: 'engine_daemon_container_states_containers',
    help: 'The count of containers in various states',
    labelNames: ['state'],
    registers: [engineRegistry],
    collect() {
      const by = { running: 0, paused: 0, stopped: 0 };
      for (const c of engine.containers.all()) {
        if (c.State.Paused) by.paused++;
        else if (c.State.Running) by.running++;
        else by.stopped++;
      }
      for (const [state, n] of Object.entries(by)) this.set({ state }, n);
    },
  });
}
