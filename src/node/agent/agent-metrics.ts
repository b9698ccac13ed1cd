// The node agent's own series on GET /metrics, named as the kubelet's
// (pkg/kubelet/metrics), so kubelet dashboards read them:
//   kubelet_running_pods                              pods with a running sandbox
//   kubelet_running_containers{container_state}       pod containers by state (created, running, exited)
//   kubelet_pod_start_duration_seconds                first seen by this agent -> every container running
// One instance per agent (several agents can share a process in tests), its
// own registry; the counts are read from the engine at scrape time.
import { Gauge, Histogram, Registry } from 'prom-client';
import type { Engine } from '../../engine/engine.js';
import { L } from './labels.js';

/** The kubelet's buckets for pod start: 0.5 s to an hour. */
const podStartBuckets = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly podStart: Histogram;
  /** performance.now() when a pod (by uid) was first seen and not yet observed running. */
  private readonly firstSeen = new Map<string, number>();

  constructor(engine: Engine) {
    const podContainers = () => engine.containers.all().filter((c) => c.Config.Labels?.[L.podUid]);
    new Gauge({
      name: 'kubelet_running_pods',
      help: 'Number of pods that have a running pod sandbox',
      registers: [this.registry],
      collect() {
        this.set(new Set(engine.pods.all().filter((s) => engine.pods.isLive(s)).map((s) => s.labels[L.podUid])).size);
      },
    });
    new Gauge({
      name: 'kubelet_running_containers',
      help: 'Number of containers currently running',
      labelNames: ['container_state'],
      registers: [this.registry],
      collect() {
        const by: Record<string, number> = { created: 0, running: 0, exited: 0 };
        for (const c of podContainers()) {
          if (c.Config.Labels[L.role] === 'sandbox') continue;
          const state = c.State.Running ? 'running' : c.State.Status === 'created' ? 'created' : 'exited';
          by[state]!++;
        }
        for (const [state, n] of Object.entries(by)) this.set({ container_state: state }, n);
      },
    });
    this.podStart = new Histogram({
      name: 'kubelet_pod_start_duration_seconds',
      help: 'Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run',
      buckets: podStartBuckets,
      registers: [this.registry],
    });
  }

  /** A pod this agent runs was looked at; the first call per uid starts its clock. */
  seen(uid: string): void {
    if (this.firstSeen.has(uid)) return;
    // A pod deleted before any container was made is never forgotten through its containers: bound the map.
    if (this.firstSeen.size >= 10_000) this.firstSeen.delete(this.firstSeen.keys().next().value!);
    this.firstSeen.set(uid, performance.now());
  }

  /** Whether the pod's start is still to be observed (so the caller checks its containers only then). */
  starting(uid: string): boolean {
    const t = this.firstSeen.get(uid);
    return t !== undefined && !Number.isNaN(t);
  }

  /** The pod's containers all run: its start duration is observed (once per uid). */
  running(uid: string): void {
    const t = this.firstSeen.get(uid);
    if (t === undefined || Number.isNaN(t)) return;
    this.podStart.observe((performance.now() - t) / 1000);
    // NaN marks "observed" until the pod goes, so a restart is not a second start.
    this.firstSeen.set(uid, Number.NaN);
  }

  /** The pod is gone from this node. */
  forget(uid: string): void {
    this.firstSeen.delete(uid);
  }
}
