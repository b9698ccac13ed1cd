// Liveness, readiness and startup probes of one running container, each on its
// own timer with the probe's initialDelay/period/timeout/thresholds. Results
// change only at thresholds; every change calls onChange so the pod is synced.
// A failed liveness (or startup) probe asks for the container to be killed.
import type { Probe } from './pod-types.js';
import { runHandler, type HandlerTarget } from './handlers.js';

export interface ProbeResults {
  /** Readiness; true when there is no readiness probe (and startup passed). */
  ready: boolean;
  /** Startup passed (true when there is no startup probe). */
  started: boolean;
}

export class ContainerProber {
  readonly results: ProbeResults;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly target: HandlerTarget,
    private readonly probes: { liveness?: Probe; readiness?: Probe; startup?: Probe },
    private readonly onChange: () => void,
    private readonly onLivenessFailure: (reason: string) => void,
  ) {
    this.results = { ready: !probes.readiness && !probes.startup, started: !probes.startup };
    if (probes.startup) this.loop('startup', probes.startup);
    else this.startOthers();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private startOthers(): void {
    if (this.probes.liveness) this.loop('liveness', this.probes.liveness);
    if (this.probes.readiness) this.loop('readiness', this.probes.readiness);
    else if (!this.results.ready) {
      this.results.ready = true;
      this.onChange();
    }
  }

  private loop(kind: 'liveness' | 'readiness' | 'startup', p: Probe): void {
    const period = (p.periodSeconds ?? 10) * 1000;
    const timeout = (p.timeoutSeconds ?? 1) * 1000;
    const successThreshold = p.successThreshold ?? 1;
    const failureThreshold = p.failureThreshold ?? 3;
    let successes = 0;
    let failures = 0;
    const tick = async (): Promise<void> => {
      if (this.stopped) return;
      const ok = await runHandler(p, this.target, timeout);
      if (this.stopped) return;
      if (ok) {
        successes++;
        failures = 0;
      } else {
        failures++;
        successes = 0;
      }
      if (kind === 'readiness') {
        const next = ok ? (successes >= successThreshold ? true : this.results.ready) : failures >= failureThreshold ? false : this.results.ready;
        if (next !== this.results.ready) {
          this.results.ready = next;
          this.onChange();
        }
      } else if (kind === 'startup' && ok) {
        this.results.started = true;
        this.onChange();
        this.startOthers();
        return; // a startup probe stops once it succeeded
      } else if (!ok && failures >= failureThreshold) {
        this.stop();
        this.onLivenessFailure(`${kind === 'startup' ? 'Startup' : 'Liveness'} probe failed`);
        return;
      }
      this.schedule(tick, period);
    };
    this.schedule(tick, (p.initialDelaySeconds ?? 0) * 1000);
  }

  private schedule(fn: () => Promise<void>, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      void fn();
    }, ms);
    this.timers.add(t);
  }
}
