// Leader election through a coordination.k8s.io/v1 Lease, as client-go's
// leaderelection package does it for kube-scheduler and kube-controller-manager:
// every candidate reads the Lease; whoever holds it renews spec.renewTime every
// retry period; the others take it over only once they have seen the record
// unchanged for a whole leaseDurationSeconds. Every write carries the
// resourceVersion it read, so of two candidates racing for one expired Lease
// exactly one succeeds (the other gets 409 Conflict).
//
// Never two leaders acting: the leader counts its renew deadline from the
// moment it SENT its last successful renewal (before etcd wrote it), while the
// others count the lease duration from the moment they SAW that write (after
// it). With renewDeadline < leaseDuration the old leader has stopped before a
// new one can start, whatever the network delays, as long as clocks tick at
// the same rate (no wall-clock comparison across machines is made). A renewal
// that hangs does not hold the leader up: a watchdog timer ends its term at the
// deadline, and a late answer is ignored.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { isKind, messageOf } from '../../errdefs.js';
import type { KubeApi, KubeObject, ResourceRef } from './kube-client.js';

export const leaseRef = (namespace: string): ResourceRef => ({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespace });

/** Kubernetes' defaults are 15 s / 10 s / 2 s; tug's are short so a dead server's work moves within seconds (see README, High availability). */
export const DEFAULT_LEASE_DURATION_MS = 4000;
export const DEFAULT_RENEW_DEADLINE_MS = 3000;
export const DEFAULT_RETRY_PERIOD_MS = 500;

export interface LeaderElectionTimings {
  /** How long non-leaders wait, after they last saw the Lease change, before they may take it. */
  leaseDurationMs: number;
  /** How long the leader keeps acting without a successful renewal. Less than leaseDurationMs. */
  renewDeadlineMs: number;
  /** How often candidates try to acquire, and the leader to renew. */
  retryPeriodMs: number;
}

export interface LeaderElectorOptions extends Partial<LeaderElectionTimings> {
  client: Pick<KubeApi, 'getOrNull' | 'create' | 'update'>;
  /** The Lease: kube-system/kube-scheduler, kube-system/kube-controller-manager. */
  namespace: string;
  name: string;
  /** This candidate (default: host name, pid and a random suffix, as client-go's hostname_uuid). */
  identity?: string;
  /** Called when this candidate becomes leader; starts the work. */
  onStartedLeading(): void;
  /** Called at once when leadership is lost (or released): must stop all work synchronously. */
  onStoppedLeading(): void;
  /** Someone (maybe this candidate) was seen holding the Lease. */
  onNewLeader?(identity: string): void;
  log?(msg: string): void;
  /** The clock (monotonic ms); tests pass their own. */
  now?(): number;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}
type Lease = KubeObject & { spec?: LeaseSpec };
/** held: this candidate holds the Lease; other: another live holder does; retry: unknown (an error, a lost race). */
type Outcome = 'held' | 'other' | 'retry';

/** A Lease's MicroTime: RFC 3339 with microseconds. */
const microTime = (d = new Date()): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export function defaultIdentity(): string {
  return `${hostname()}_${process.pid}_${randomUUID().slice(0, 8)}`;
}

/** Checks the three durations against each other, naming the flag at fault. */
export function validateTimings(t: LeaderElectionTimings): LeaderElectionTimings {
  if (!(t.retryPeriodMs > 0)) throw new Error('--leader-elect-retry-period must be more than 0');
  if (!(t.renewDeadlineMs > t.retryPeriodMs)) throw new Error(`--leader-elect-renew-deadline (${t.renewDeadlineMs} ms) must be longer than --leader-elect-retry-period (${t.retryPeriodMs} ms)`);
  if (!(t.leaseDurationMs > t.renewDeadlineMs)) throw new Error(`--leader-elect-lease-duration (${t.leaseDurationMs} ms) must be longer than --leader-elect-renew-deadline (${t.renewDeadlineMs} ms)`);
  return t;
}

export class LeaderElector {
  readonly identity: string;
  private readonly t: LeaderElectionTimings;
  private readonly now: () => number;
  private readonly ref: ResourceRef;
  /** The Lease as last read or written, and when (our clock) it was last seen to change. */
  private observed?: Lease;
  private observedAt = 0;
  private leading = false;
  /** When the last successful renewal was sent. */
  private renewedSentAt = 0;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private watchdog?: NodeJS.Timeout;
  /** Bumped when a term ends: answers to requests of an earlier term are ignored. */
  private term = 0;
  /** Counts acquire/renew rounds: only the newest one's answer counts. */
  private round = 0;
  private lastLeader = '';

  constructor(private readonly o: LeaderElectorOptions) {
    this.identity = o.identity ?? defaultIdentity();
    this.t = validateTimings({ leaseDurationMs: o.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS, renewDeadlineMs: o.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS, retryPeriodMs: o.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS });
    this.now = o.now ?? (() => performance.now());
    this.ref = leaseRef(o.namespace);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Starts campaigning (and, once leader, renewing) until stop(). */
  run(): void {
    this.schedule(0);
  }

  /** Stops; a leader stops its work and releases the Lease so another takes over at once (client-go's ReleaseOnCancel). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const wasLeading = this.leading;
    this.endTerm('stopping');
    if (wasLeading && this.observed?.spec?.holderIdentity === this.identity) {
      const released: Lease = { ...this.observed, spec: { ...this.observed.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime() } };
      await this.o.client.update(this.ref, released).catch((err) => this.o.log?.(`lease ${this.o.namespace}/${this.o.name}: release: ${messageOf(err)}`));
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    // Non-leaders add jitter (client-go: 1.2) so candidates do not all retry in step.
    const delay = this.leading ? ms : ms * (1 + Math.random() * 0.2);
    this.timer = setTimeout(() => void this.tick(), delay);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const term = this.term;
    const round = ++this.round;
    const sentAt = this.now();
    let outcome: Outcome = 'retry';
    // A round that hangs (a server gone silent) is given up after the renew deadline, so the
    // campaign goes on; if its answer comes later it is ignored (round no longer current).
    let timer: NodeJS.Timeout | undefined;
    const givenUp = new Promise<Outcome>((resolve) => (timer = setTimeout(() => resolve('retry'), this.t.renewDeadlineMs)));
    try {
      outcome = await Promise.race([this.tryAcquireOrRenew(sentAt, round), givenUp]);
    } catch (err) {
      this.o.log?.(`lease ${this.o.namespace}/${this.o.name}: ${messageOf(err)}`);
    } finally {
      clearTimeout(timer);
    }
    // Ends this round: a late answer to it must not write.
    this.round++;
    if (this.stopped) return;
    if (term !== this.term) {
      // The watchdog ended that term while the request was out: whatever it answered, start over as a candidate.
    } else if (outcome === 'held') {
      this.renewedSentAt = sentAt;
      if (!this.leading) {
        this.leading = true;
        this.armWatchdog();
        this.o.log?.(`lease ${this.o.namespace}/${this.o.name}: ${this.identity} became leader`);
        this.o.onStartedLeading();
      } else this.armWatchdog();
    } else if (outcome === 'other' && this.leading) {
      // Someone else holds it now: stop at once. (An error or a conflict is retried until the watchdog's deadline.)
      this.endTerm(`the lease is held by ${this.observed?.spec?.holderIdentity}`);
    }
    this.schedule(this.t.retryPeriodMs);
  }

  /** The leader's term ends renewDeadline after its last successful renewal was sent, unless a renewal succeeds first. */
  private armWatchdog(): void {
    clearTimeout(this.watchdog);
    const left = this.renewedSentAt + this.t.renewDeadlineMs - this.now();
    this.watchdog = setTimeout(() => this.endTerm(`no renewal within --leader-elect-renew-deadline (${this.t.renewDeadlineMs} ms)`), Math.max(0, left));
  }

  private endTerm(why: string): void {
    clearTimeout(this.watchdog);
    this.term++;
    if (!this.leading) return;
    this.leading = false;
    this.o.log?.(`lease ${this.o.namespace}/${this.o.name}: ${this.identity} stopped leading: ${why}`);
    this.o.onStoppedLeading();
  }

  private observe(lease: Lease, at: number): void {
    const before = this.observed?.spec;
    const s = lease.spec ?? {};
    if (!before || before.holderIdentity !== s.holderIdentity || before.renewTime !== s.renewTime || this.observed?.metadata.resourceVersion !== lease.metadata.resourceVersion) {
      this.observed = lease;
      this.observedAt = at;
    }
    const holder = s.holderIdentity ?? '';
    if (holder && holder !== this.lastLeader) {
      this.lastLeader = holder;
      this.o.onNewLeader?.(holder);
    }
  }

  /** One round of client-go's tryAcquireOrRenew. */
  private async tryAcquireOrRenew(sentAt: number, round: number): Promise<Outcome> {
    const now = new Date();
    const durationSeconds = Math.max(1, Math.ceil(this.t.leaseDurationMs / 1000));
    // The leader's fast path (as client-go's since 1.27): renew the Lease as it last wrote it,
    // one request instead of a read and a write, so a renewal spends half as long queued on a
    // busy server. The resourceVersion it wrote goes with the update: if anyone else wrote
    // since, that is a 409 and the round falls back to reading the Lease.
    const last = this.observed;
    if (this.leading && last?.spec?.holderIdentity === this.identity) {
      try {
        const renewed = await this.o.client.update<Lease>(this.ref, { ...last, spec: { ...last.spec, leaseDurationSeconds: durationSeconds, renewTime: microTime(now) } });
        if (round !== this.round) return 'retry';
        this.observe(renewed, this.now());
        return 'held';
      } catch (err) {
        if (round !== this.round) return 'retry';
        this.o.log?.(`lease ${this.o.namespace}/${this.o.name}: renewal without a read failed (${messageOf(err)}); reading the Lease`);
      }
    }
    const current = await this.o.client.getOrNull<Lease>(this.ref, this.o.name);
    if (round !== this.round) return 'retry';
    if (!current) {
      const fresh = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.o.name, namespace: this.o.namespace }, spec: { holderIdentity: this.identity, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 } };
      try {
        this.observe(await this.o.client.create<Lease>(this.ref, fresh), this.now());
        return 'held';
      } catch (err) {
        if (isKind(err, 'already-exists')) return 'retry';
        throw err;
      }
    }
    this.observe(current, this.now());
    const s = current.spec ?? {};
    const holder = s.holderIdentity ?? '';
    const mine = holder === this.identity;
    // A Lease released (holder '') is free at once; a held one only after the holder's duration has passed unchanged, by our clock.
    const heldFor = (s.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (holder && !mine && this.observedAt + heldFor > sentAt) return 'other';
    const spec: LeaseSpec = mine
      ? { ...s, leaseDurationSeconds: durationSeconds, renewTime: microTime(now) }
      : { holderIdentity: this.identity, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: (s.leaseTransitions ?? 0) + (holder || s.acquireTime ? 1 : 0) };
    try {
      // The resourceVersion read above goes with the write: a concurrent writer makes this a 409.
      this.observe(await this.o.client.update<Lease>(this.ref, { ...current, spec }), this.now());
      return 'held';
    } catch (err) {
      if (isKind(err, 'conflict')) return 'retry';
      throw err;
    }
  }
}
