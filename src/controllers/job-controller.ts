// Job controller (batch/v1): runs pods to completion. Level-triggered as the
// ReplicaSet controller: every reconcile reads the Job and its pods from the
// informers and derives everything again — succeeded/failed counts, completed
// indexes, the back-off before the next pod (from the failed pods' finish
// times), the deadline — so a restart or a missed event changes nothing.
// Outcomes follow Kubernetes 1.31+: FailureTarget / SuccessCriteriaMet first
// (active pods are deleted), then Failed / Complete once no pod is left running.
// Counting is crash-safe as Kubernetes' job tracking: every pod carries the
// batch.kubernetes.io/job-tracking finalizer; a finished pod's uid is first
// written to status.uncountedTerminatedPods, then its finalizer removed, then
// it moves into status.succeeded/failed. So a pod is counted once, even if it
// is deleted right after finishing or the controller dies between the steps.
// Pods the controller deletes itself (suspend, excess, the Job ending) lose the
// finalizer first and count as nothing; pods deleted by anyone else count as
// failed. Pods of a Job that is gone or being deleted are released (see job-tracking.ts).
import { runReconcileLoop } from '../kube/client/reconcile-loop.js';
import type { KubeApi, KubeObject } from '../kube/client/kube-client.js';
import { keyOf } from '../kube/client/informer.js';
import { WorkQueue } from '../kube/client/work-queue.js';
import { isKind, messageOf } from '../errdefs.js';
import { jobLabels } from '../kube/api/batch-types.js';
import { refs, inNs, type SharedInformers } from '../kube/client/shared-informers.js';
import { controllerOf, isPodReady, nowIso } from './pod-state.js';
import { deletionOrder, ownerRefOf } from './replicaset-controller.js';
import { ObjectEvents } from './object-events.js';
import { TrackingFinalizers, hasTracking, mergeDiff, trackingFinalizer } from './job-tracking.js';
import { backoffRemaining, completionIndex, finishTime, formatIndexes, isFailed, isSucceeded, matchPodFailurePolicy, parseIndexes, restarts } from './job-pods.js';

const burst = 500;

interface Condition {
  type: string;
  status: 'True' | 'False';
  reason?: string;
  message?: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
}

interface Expectations {
  adds: Set<string>;
  dels: Set<string>;
  at: number;
}

const isTrue = (conds: Condition[], type: string): boolean => conds.some((c) => c.type === type && c.status === 'True');

/** Sets a condition, keeping lastTransitionTime when the status does not change. */
function setCondition(conds: Condition[], type: string, status: 'True' | 'False', reason: string, message: string): void {
  const now = nowIso();
  const cur = conds.find((c) => c.type === type);
  if (cur) {
    if (cur.status !== status) {
      cur.lastTransitionTime = now;
      cur.lastProbeTime = now;
    }
    Object.assign(cur, { status, reason, message });
  } else conds.push({ type, status, reason, message, lastProbeTime: now, lastTransitionTime: now });
}

/** Finished for good: Complete or Failed. */
export function isJobFinished(job: KubeObject): boolean {
  const conds: Condition[] = job.status?.conditions ?? [];
  return isTrue(conds, 'Complete') || isTrue(conds, 'Failed');
}

/** When the Job finished (its Complete/Failed condition's transition), or undefined. */
export function jobFinishTime(job: KubeObject): number | undefined {
  const c = ((job.status?.conditions ?? []) as Condition[]).find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  return c ? Date.parse(c.lastTransitionTime ?? '') || undefined : undefined;
}

const orphanPrefix = 'orphan:';

export class JobController {
  readonly queue = new WorkQueue({ name: 'job', baseDelayMs: 200, maxDelayMs: 30_000 });
  private readonly expectations = new Map<string, Expectations>();
  private readonly events: ObjectEvents;
  private readonly tracking: TrackingFinalizers;

  constructor(
    private readonly informers: SharedInformers,
    private readonly client: KubeApi,
  ) {
    this.events = new ObjectEvents(client, 'job-controller');
    this.tracking = new TrackingFinalizers(client);
    informers.for(refs.jobs).addHandlers({ onAdd: (o) => this.queue.add(keyOf(o)), onUpdate: (o) => this.queue.add(keyOf(o)), onDelete: (o) => this.jobGone(o) });
    informers.for(refs.pods).addHandlers({ onAdd: (p) => this.podEvent(p, 'add'), onUpdate: (p) => this.podEvent(p, 'update'), onDelete: (p) => this.podEvent(p, 'delete') });
  }

  run(workers = 2): void {
    runReconcileLoop(this.queue, 'job-controller', (k) => this.reconcile(k), workers);
  }

  stop(): void {
    this.queue.shutdown();
  }

  private jobGone(job: KubeObject): void {
    this.expectations.delete(keyOf(job));
    for (const p of this.informers.for(refs.pods).list()) {
      if (hasTracking(p) && controllerOf(p)?.uid === job.metadata.uid) this.queue.add(orphanPrefix + keyOf(p));
    }
  }

  private podEvent(p: KubeObject, kind: 'add' | 'update' | 'delete'): void {
    this.tracking.observe(p, kind === 'delete');
    const ref = controllerOf(p);
    // Orphaned by `--cascade=orphan` (ownerReference removed): nobody will count it, so it is let go.
    if (!ref && kind !== 'delete' && hasTracking(p)) this.queue.add(orphanPrefix + keyOf(p));
    if (ref?.kind !== 'Job') return;
    const key = `${p.metadata.namespace}/${ref.name}`;
    if (kind !== 'delete' && hasTracking(p) && this.informers.for(refs.jobs).get(key)?.metadata.uid !== ref.uid) this.queue.add(orphanPrefix + keyOf(p));
    const e = this.expectations.get(key);
    if (e) {
      if (kind === 'add') e.adds.delete(p.metadata.name!);
      if (kind === 'delete' || p.metadata.deletionTimestamp) e.dels.delete(p.metadata.name!);
    }
    this.queue.add(key);
  }

  private satisfied(key: string): boolean {
    const e = this.expectations.get(key);
    if (!e) return true;
    if ((!e.adds.size && !e.dels.size) || Date.now() - e.at > 30_000) {
      this.expectations.delete(key);
      return true;
    }
    return false;
  }

  /** A pod still holding the tracking finalizer whose Job is gone (asked of the API, not only the informer): released. */
  private async releaseOrphan(podKey: string): Promise<void> {
    const p = this.informers.for(refs.pods).get(podKey);
    if (!p || !hasTracking(p)) return;
    const ref = controllerOf(p);
    if (!ref) return this.tracking.release([p]);
    if (ref.kind !== 'Job') return;
    const ns = p.metadata.namespace!;
    if (this.informers.for(refs.jobs).get(`${ns}/${ref.name}`)?.metadata.uid === ref.uid) return this.queue.add(`${ns}/${ref.name}`);
    const job = await this.client.getOrNull<KubeObject>(inNs(refs.jobs, ns), ref.name);
    if (job?.metadata.uid === ref.uid && !job.metadata.deletionTimestamp) return;
    await this.tracking.release([p]);
  }

  async reconcile(key: string): Promise<void> {
    if (key.startsWith(orphanPrefix)) return this.releaseOrphan(key.slice(orphanPrefix.length));
    const job = this.informers.for(refs.jobs).get(key);
    if (!job) return;
    const ns = job.metadata.namespace!;
    const pods = this.informers.for(refs.pods).list().filter((p) => p.metadata.namespace === ns && controllerOf(p)?.uid === job.metadata.uid);
    // A Job being deleted or finished counts nothing more: its pods are let go.
    if (job.metadata.deletionTimestamp || isJobFinished(job)) return this.tracking.release(pods);
    const spec = job.spec ?? {};
    let prev = job.status ?? {};
    let resourceVersion = job.metadata.resourceVersion;
    const now = Date.now();
    const running = (p: KubeObject) => !isSucceeded(p) && !isFailed(p);
    const active = pods.filter((p) => running(p) && !p.metadata.deletionTimestamp);
    const terminating = pods.filter((p) => running(p) && p.metadata.deletionTimestamp);
    const indexed = spec.completionMode === 'Indexed';
    const completions: number | undefined = spec.completions ?? undefined;

    // Failures, less those a podFailurePolicy Ignore rule excuses; a FailJob rule ends the Job.
    let failure: { reason: string; message: string } | undefined;
    const counted: KubeObject[] = [];
    for (const p of pods.filter(isFailed).sort((a, b) => finishTime(a) - finishTime(b))) {
      const m = spec.podFailurePolicy ? matchPodFailurePolicy(spec.podFailurePolicy, p) : undefined;
      if (m?.action === 'Ignore') continue;
      if (m?.action === 'FailJob') failure ??= { reason: 'PodFailurePolicy', message: m.message };
      counted.push(p);
    }
    const succeededPods = pods.filter(isSucceeded);
    const done = indexed ? parseIndexes(prev.completedIndexes, completions ?? 0) : new Set<number>();
    for (const p of indexed ? succeededPods : []) {
      const i = completionIndex(p, completions ?? 0);
      if (i !== undefined) done.add(i);
    }

    // Tracking: finished (or deleted) pods that still hold the finalizer go to uncountedTerminatedPods first.
    const uncounted = { succeeded: [...(prev.uncountedTerminatedPods?.succeeded ?? [])] as string[], failed: [...(prev.uncountedTerminatedPods?.failed ?? [])] as string[] };
    const known = new Set([...uncounted.succeeded, ...uncounted.failed]);
    const toRelease: KubeObject[] = [];
    for (const p of pods) {
      if (!this.tracking.holds(p)) continue;
      const uid = p.metadata.uid!;
      if (known.has(uid)) toRelease.push(p);
      else if (isSucceeded(p)) {
        uncounted.succeeded.push(uid);
        toRelease.push(p);
      } else if (isFailed(p) || p.metadata.deletionTimestamp) {
        const m = isFailed(p) && spec.podFailurePolicy ? matchPodFailurePolicy(spec.podFailurePolicy, p) : undefined;
        if (m?.action !== 'Ignore') uncounted.failed.push(uid);
        toRelease.push(p);
      }
    }
    const pending = { ...prev, uncountedTerminatedPods: uncounted, ...(indexed ? { completedIndexes: formatIndexes(done) || undefined } : {}) };
    if (uncounted.succeeded.length + uncounted.failed.length > known.size || (indexed && pending.completedIndexes !== prev.completedIndexes)) {
      const wrote = await this.client.patch<KubeObject>(inNs(refs.jobs, ns), job.metadata.name!, { metadata: { resourceVersion }, status: mergeDiff(prev, pending) }, { subresource: 'status' });
      prev = wrote.status ?? pending;
      resourceVersion = wrote.metadata.resourceVersion;
    }
    await this.tracking.release(toRelease);
    // Every uncounted pod has let go of its finalizer (now or before a crash): it counts.
    const failed = (job.status?.failed ?? 0) + uncounted.failed.length;
    const succeeded = indexed ? done.size : (job.status?.succeeded ?? 0) + uncounted.succeeded.length;

    const conds: Condition[] = structuredClone(prev.conditions ?? []);
    const suspended = spec.suspend === true;
    let startTime: string | undefined = prev.startTime;
    let completionTime: string | undefined = prev.completionTime;
    let wakeAfter: number | undefined;
    const wake = (ms: number) => (wakeAfter = Math.min(wakeAfter ?? Infinity, Math.max(ms, 50)));

    if (!isTrue(conds, 'FailureTarget') && !isTrue(conds, 'SuccessCriteriaMet')) {
      if (!failure && failed > (spec.backoffLimit ?? 6)) failure = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
      if (!failure && spec.template?.spec?.restartPolicy === 'OnFailure') {
        const n = active.reduce((s, p) => s + restarts(p), 0);
        const limit = spec.backoffLimit ?? 6;
        if (limit === 0 ? n > 0 : n >= limit) failure = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
      }
      if (!failure && !suspended && spec.activeDeadlineSeconds != null && startTime) {
        const left = Date.parse(startTime) + spec.activeDeadlineSeconds * 1000 - now;
        if (left <= 0) failure = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
        else wake(left);
      }
      const complete = completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0;
      if (failure) {
        setCondition(conds, 'FailureTarget', 'True', failure.reason, failure.message);
        this.events.record(job, 'Job', 'batch/v1', 'Warning', failure.reason, failure.message);
      } else if (complete) setCondition(conds, 'SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods');
    }

    const ending = conds.find((c) => (c.type === 'FailureTarget' || c.type === 'SuccessCriteriaMet') && c.status === 'True');
    if (ending) {
      // Stop what still runs; the final condition waits until nothing does.
      await this.deletePods(job, active);
      if (!active.length && !terminating.length) {
        if (ending.type === 'FailureTarget') {
          setCondition(conds, 'Failed', 'True', ending.reason!, ending.message!);
        } else {
          setCondition(conds, 'Complete', 'True', ending.reason!, ending.message!);
          completionTime = nowIso();
          this.events.record(job, 'Job', 'batch/v1', 'Normal', 'Completed', 'Job completed');
        }
      }
    } else if (suspended) {
      await this.deletePods(job, active);
      if (!isTrue(conds, 'Suspended')) {
        setCondition(conds, 'Suspended', 'True', 'JobSuspended', 'Job suspended');
        this.events.record(job, 'Job', 'batch/v1', 'Normal', 'Suspended', 'Job suspended');
      }
    } else {
      if (isTrue(conds, 'Suspended')) {
        setCondition(conds, 'Suspended', 'False', 'JobResumed', 'Job resumed');
        this.events.record(job, 'Job', 'batch/v1', 'Normal', 'Resumed', 'Job resumed');
        // The deadline counts the time the Job is continuously active.
        startTime = nowIso();
      }
      startTime ??= nowIso();
      if (spec.activeDeadlineSeconds != null) wake(Date.parse(startTime) + spec.activeDeadlineSeconds * 1000 - now);
      if (this.satisfied(key)) {
        const lastSuccess = Math.max(0, ...succeededPods.map(finishTime));
        const backoff = backoffRemaining(counted.map(finishTime), lastSuccess, now);
        const woke = indexed ? await this.manageIndexed(key, job, active, done, backoff) : await this.manageNonIndexed(key, job, active, succeeded, backoff);
        if (woke) wake(backoff);
      }
    }

    const status: Record<string, unknown> = {
      ...prev,
      conditions: conds.length ? conds : undefined,
      startTime,
      completionTime,
      active: active.length || undefined,
      ready: active.filter(isPodReady).length,
      terminating: terminating.length,
      succeeded: succeeded || undefined,
      failed: failed || undefined,
      uncountedTerminatedPods: {},
    };
    if (indexed) status.completedIndexes = formatIndexes(done) || undefined;
    await this.writeStatus(job, resourceVersion, prev, status);
    if (wakeAfter !== undefined && !isJobFinished({ ...job, status })) this.queue.addAfter(key, wakeAfter + 50);
  }

  /** Keeps min(parallelism, completions - succeeded) pods running; returns true if creation waits for a back-off. */
  private async manageNonIndexed(key: string, job: KubeObject, active: KubeObject[], succeeded: number, backoff: number): Promise<boolean> {
    const spec = job.spec;
    const parallelism = spec.parallelism ?? 1;
    const want = spec.completions != null ? Math.max(0, Math.min(parallelism, spec.completions - succeeded)) : succeeded > 0 ? 0 : parallelism;
    const diff = want - active.length;
    if (diff < 0) {
      await this.deletePods(job, [...active].sort(deletionOrder).slice(0, -diff), key);
      return false;
    }
    if (diff === 0) return false;
    if (backoff > 0) return true;
    await this.createPods(key, job, Array.from({ length: Math.min(diff, burst) }, () => undefined));
    return false;
  }

  /** One pod per index not yet completed, lowest first, up to parallelism; duplicates and strays are deleted. */
  private async manageIndexed(key: string, job: KubeObject, active: KubeObject[], done: Set<number>, backoff: number): Promise<boolean> {
    const spec = job.spec;
    const completions: number = spec.completions ?? 0;
    const byIndex = new Map<number, KubeObject>();
    const extra: KubeObject[] = [];
    for (const p of active) {
      const i = completionIndex(p, completions);
      if (i === undefined || done.has(i) || byIndex.has(i)) extra.push(p);
      else byIndex.set(i, p);
    }
    if (extra.length) await this.deletePods(job, extra, key);
    const room = Math.max(0, (spec.parallelism ?? 1) - byIndex.size);
    const missing: number[] = [];
    for (let i = 0; i < completions && missing.length < Math.min(room, burst); i++) if (!done.has(i) && !byIndex.has(i)) missing.push(i);
    if (!missing.length) return false;
    if (backoff > 0) return true;
    await this.createPods(key, job, missing);
    return false;
  }

  private podBody(job: KubeObject, index: number | undefined): KubeObject {
    const tpl = structuredClone(job.spec?.template ?? {});
    const name = job.metadata.name!;
    const metadata = { ...(tpl.metadata ?? {}) };
    delete metadata.name;
    delete metadata.creationTimestamp;
    metadata.generateName = index === undefined ? `${name}-` : `${name}-${index}-`;
    metadata.namespace = job.metadata.namespace;
    metadata.ownerReferences = [ownerRefOf(job, 'Job', 'batch/v1')];
    metadata.finalizers = [...new Set([...(metadata.finalizers ?? []), trackingFinalizer])];
    const spec = tpl.spec ?? {};
    if (index !== undefined) {
      metadata.labels = { ...(metadata.labels ?? {}), [jobLabels.completionIndex]: String(index) };
      metadata.annotations = { ...(metadata.annotations ?? {}), [jobLabels.completionIndex]: String(index) };
      spec.hostname ||= `${name}-${index}`;
      const env = { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${jobLabels.completionIndex}']` } } };
      for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
        if (!(c.env ?? []).some((e: { name: string }) => e.name === env.name)) c.env = [...(c.env ?? []), env];
      }
    }
    return { apiVersion: 'v1', kind: 'Pod', metadata, spec } as KubeObject;
  }

  /** Creates one pod per entry (an index, or undefined), in batches of 1, 2, 4... as kube-controller-manager's slow start. */
  private async createPods(key: string, job: KubeObject, indexes: Array<number | undefined>): Promise<void> {
    const podRef = inNs(refs.pods, job.metadata.namespace);
    const e: Expectations = { adds: new Set(), dels: new Set(), at: Date.now() };
    this.expectations.set(key, e);
    let created = 0;
    for (let batch = 1; created < indexes.length; batch *= 2) {
      const slice = indexes.slice(created, created + batch);
      const results = await Promise.allSettled(
        slice.map(async (i) => {
          const p = await this.client.create<KubeObject>(podRef, this.podBody(job, i));
          if (!this.informers.for(refs.pods).get(keyOf(p))) e.adds.add(p.metadata.name!);
          this.events.record(job, 'Job', 'batch/v1', 'Normal', 'SuccessfulCreate', `Created pod: ${p.metadata.name}`);
        }),
      );
      created += slice.length;
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failed) {
        this.events.record(job, 'Job', 'batch/v1', 'Warning', 'FailedCreate', `Error creating: ${messageOf(failed.reason)}`);
        throw failed.reason;
      }
    }
  }

  private async deletePods(job: KubeObject, pods: KubeObject[], key?: string): Promise<void> {
    if (!pods.length) return;
    const e: Expectations | undefined = key ? { adds: new Set(), dels: new Set(pods.map((p) => p.metadata.name!)), at: Date.now() } : undefined;
    if (key && e) this.expectations.set(key, e);
    const podRef = inNs(refs.pods, job.metadata.namespace);
    await Promise.all(
      pods.map(async (p) => {
        try {
          // Deleted by the controller, so not a failure: the finalizer goes first.
          await this.tracking.release([p]);
          await this.client.delete(podRef, p.metadata.name!, { uid: p.metadata.uid });
          this.events.record(job, 'Job', 'batch/v1', 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
        } catch (err) {
          e?.dels.delete(p.metadata.name!);
          if (!isKind(err, 'not-found') && !isKind(err, 'conflict')) throw err;
        }
      }),
    );
  }

  private async writeStatus(job: KubeObject, resourceVersion: string | undefined, prev: Record<string, unknown>, next: Record<string, unknown>): Promise<void> {
    const patch = mergeDiff(prev, next) as Record<string, unknown>;
    if (!Object.keys(patch).length) return;
    await this.client.patch(inNs(refs.jobs, job.metadata.namespace), job.metadata.name!, { metadata: { resourceVersion }, status: patch }, { subresource: 'status' });
  }
}
