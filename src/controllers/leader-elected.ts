// Runs one component (the scheduler, or the controllers) only while this
// process holds its Lease, as kube-scheduler and kube-controller-manager run
// their loops under leaderelection.RunOrDie. Starting takes a while (the
// informers list first); if the term ends meanwhile the component is stopped
// the moment it is up, and a start that fails is tried again while still
// leader. Unlike client-go's RunOrDie the process does not exit on a lost
// Lease: the component is stopped at once and this process campaigns again,
// with new informer views of the same warm caches next time (controllers-worker.ts).
import { messageOf } from '../errdefs.js';
import type { KubeApi } from '../kube/client/kube-client.js';
import { LeaderElector, type LeaderElectionTimings } from '../kube/client/leader-election.js';

export interface Component {
  stop(): void;
}

export interface LeaderElectedOptions<C extends Component> extends Partial<LeaderElectionTimings> {
  client: Pick<KubeApi, 'getOrNull' | 'create' | 'update'>;
  /** The Lease in kube-system: kube-scheduler, kube-controller-manager. */
  lease: string;
  identity?: string;
  start(): Promise<C>;
  log(msg: string): void;
}

export class LeaderElected<C extends Component> {
  readonly elector: LeaderElector;
  private running?: C;
  /** Counts terms: a start that finishes after its term ended stops what it started. */
  private term = 0;

  constructor(private readonly o: LeaderElectedOptions<C>) {
    this.elector = new LeaderElector({
      client: o.client,
      namespace: 'kube-system',
      name: o.lease,
      identity: o.identity,
      leaseDurationMs: o.leaseDurationMs,
      renewDeadlineMs: o.renewDeadlineMs,
      retryPeriodMs: o.retryPeriodMs,
      log: o.log,
      onStartedLeading: () => void this.begin(++this.term),
      onStoppedLeading: () => {
        this.term++;
        const r = this.running;
        this.running = undefined;
        r?.stop();
      },
    });
  }

  /** What runs now (only while leader). */
  get current(): C | undefined {
    return this.running;
  }

  run(): void {
    this.elector.run();
  }

  /** Stops the component and releases the Lease. */
  async stop(): Promise<void> {
    await this.elector.stop();
  }

  private async begin(term: number): Promise<void> {
    while (term === this.term) {
      try {
        const c = await this.o.start();
        if (term !== this.term) c.stop();
        else this.running = c;
        return;
      } catch (err) {
        this.o.log(`${this.o.lease}: start: ${messageOf(err)}; trying again`);
        await new Promise((r) => setTimeout(r, this.o.retryPeriodMs ?? 1000));
      }
    }
  }
}
