// CronJob controller (batch/v1), as Kubernetes' cronjob controller v2: each
// reconcile of a CronJob brings status.active in line with its Jobs, trims the
// finished history to the limits, then finds the most recent unmet schedule
// time (bounded by startingDeadlineSeconds) and starts a Job for it unless
// concurrencyPolicy says otherwise, and requeues itself for the next time.
// A Job's name is the CronJob's plus the scheduled time in minutes, so the
// name is the lock: a crash between creating the Job and writing status never
// makes a second one.
import { runReconcileLoop } from '../kube/client/reconcile-loop.js';
import type { KubeApi, KubeObject } from '../kube/client/kube-client.js';
import { keyOf } from '../kube/client/informer.js';
import { WorkQueue } from '../kube/client/work-queue.js';
import { isKind, messageOf } from '../errdefs.js';
import { refs, inNs, type SharedInformers } from '../kube/client/shared-informers.js';
import { formatInZone, localTimeZone, nextAfter, parseSchedule, type Schedule } from '../kube/api/cron-schedule.js';
import { controllerOf } from './pod-state.js';
import { ownerRefOf } from './replicaset-controller.js';
import { ObjectEvents } from './object-events.js';
import { isJobFinished } from './job-controller.js';

export const scheduledTimestampAnnotation = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

interface JobRef {
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  apiVersion: string;
  resourceVersion?: string;
}

const iso = (t: number): string => new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
const jobSucceeded = (j: KubeObject): boolean => (j.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Complete' && c.status === 'True');
const jobFailed = (j: KubeObject): boolean => (j.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Failed' && c.status === 'True');

export interface MostRecent {
  /** The most recent schedule time at or before now that is not yet met, if any. */
  time?: number;
  /** Roughly how many schedule times were missed (Kubernetes' estimate). */
  missed: number;
}

/**
 * Kubernetes' mostRecentScheduleTime: from max(lastScheduleTime, creation,
 * now - startingDeadlineSeconds), the latest activation not after now.
 */
export function mostRecentScheduleTime(cj: KubeObject, sched: Schedule, tz: string, now: number, withDeadline: boolean): MostRecent {
  let earliest = Date.parse(cj.status?.lastScheduleTime ?? '') || Date.parse(cj.metadata.creationTimestamp ?? '') || now;
  const sds = cj.spec?.startingDeadlineSeconds;
  if (withDeadline && sds != null) earliest = Math.max(earliest, now - sds * 1000);
  const t1 = nextAfter(sched, earliest, tz);
  if (t1 === undefined || now < t1) return { missed: 0 };
  const t2 = nextAfter(sched, t1, tz);
  if (t2 === undefined || now < t2) return { time: t1, missed: 1 };
  const between = Math.max(1, Math.round((t2 - t1) / 1000));
  const missed = Math.floor((now - t1) / 1000 / between) + 1;
  // Jump close to now, then let the schedule walk the rest (irregular schedules included).
  let t = nextAfter(sched, t1 + (missed - 2) * between * 1000, tz);
  let recent: number | undefined;
  while (t !== undefined && t <= now) {
    recent = t;
    t = nextAfter(sched, t, tz);
  }
  return { time: recent, missed };
}

export class CronJobController {
  readonly queue = new WorkQueue({ name: 'cronjob', baseDelayMs: 500, maxDelayMs: 30_000 });
  private readonly events: ObjectEvents;

  constructor(
    private readonly informers: SharedInformers,
    private readonly client: KubeApi,
  ) {
    this.events = new ObjectEvents(client, 'cronjob-controller');
    informers.for(refs.cronjobs).addHandlers({ onAdd: (o) => this.queue.add(keyOf(o)), onUpdate: (o) => this.queue.add(keyOf(o)) });
    const jobEvent = (j: KubeObject) => {
      const ref = controllerOf(j);
      if (ref?.kind === 'CronJob') this.queue.add(`${j.metadata.namespace}/${ref.name}`);
    };
    informers.for(refs.jobs).addHandlers({ onAdd: jobEvent, onUpdate: jobEvent, onDelete: jobEvent });
  }

  run(workers = 2): void {
    runReconcileLoop(this.queue, 'cronjob-controller', (k) => this.reconcile(k), workers);
  }

  stop(): void {
    this.queue.shutdown();
  }

  private record(cj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.record(cj, 'CronJob', 'batch/v1', type, reason, message);
  }

  async reconcile(key: string): Promise<void> {
    const cj = this.informers.for(refs.cronjobs).get(key);
    if (!cj || cj.metadata.deletionTimestamp) return;
    const ns = cj.metadata.namespace!;
    const jobsRef = inNs(refs.jobs, ns);
    const jobs = this.informers.for(refs.jobs).list().filter((j) => j.metadata.namespace === ns && controllerOf(j)?.uid === cj.metadata.uid);
    const prev = cj.status ?? {};
    let active: JobRef[] = structuredClone(prev.active ?? []);
    let lastSuccessfulTime: string | undefined = prev.lastSuccessfulTime;
    let lastScheduleTime: string | undefined = prev.lastScheduleTime;

    // 1. status.active follows the Jobs.
    for (const j of jobs) {
      const listed = active.some((r) => r.uid === j.metadata.uid);
      if (listed && isJobFinished(j)) {
        active = active.filter((r) => r.uid !== j.metadata.uid);
        this.record(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${jobSucceeded(j) ? 'Complete' : 'Failed'}`);
      }
      const done = j.status?.completionTime;
      if (jobSucceeded(j) && done && (!lastSuccessfulTime || Date.parse(done) > Date.parse(lastSuccessfulTime))) lastSuccessfulTime = done;
    }
    const children = new Set(jobs.map((j) => j.metadata.uid));
    for (const r of [...active]) {
      if (children.has(r.uid)) continue;
      // The informer may lag: ask the API before calling a Job gone.
      const j = await this.client.getOrNull<KubeObject>(jobsRef, r.name);
      if (!j || j.metadata.uid !== r.uid) {
        active = active.filter((x) => x.uid !== r.uid);
        this.record(cj, 'Normal', 'MissingJob', `Active job went missing: ${r.name}`);
      }
    }

    // 2. history limits over the finished Jobs.
    await this.trimHistory(cj, jobs.filter(jobSucceeded), cj.spec?.successfulJobsHistoryLimit);
    await this.trimHistory(cj, jobs.filter(jobFailed), cj.spec?.failedJobsHistoryLimit);

    // 3. the next Job, if one is due.
    const now = Date.now();
    let wakeAt: number | undefined;
    if (!cj.spec?.suspend) {
      let sched: Schedule | undefined;
      try {
        sched = parseSchedule(cj.spec?.schedule ?? '');
      } catch (err) {
        this.record(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(cj.spec?.schedule)} : ${messageOf(err)}`);
      }
      const tz = cj.spec?.timeZone ?? localTimeZone();
      if (sched) {
        wakeAt = nextAfter(sched, now, tz);
        const due = mostRecentScheduleTime({ ...cj, status: { ...prev, lastScheduleTime } }, sched, tz, now, true);
        if (due.missed > 100) this.record(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
        const t = due.time;
        const name = t !== undefined ? `${cj.metadata.name}-${Math.floor(t / 60_000)}` : '';
        const sds = cj.spec?.startingDeadlineSeconds;
        if (t === undefined) {
          // Nothing unmet: wait for the next time.
        } else if (sds != null && t + sds * 1000 < now) {
          this.record(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${new Date(t).toUTCString().replace('GMT', '+0000')}`);
        } else if (active.some((r) => r.name === name) || (lastScheduleTime && Date.parse(lastScheduleTime) === t)) {
          // Already started for this time.
        } else if (cj.spec?.concurrencyPolicy === 'Forbid' && active.length) {
          this.record(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
        } else {
          if (cj.spec?.concurrencyPolicy === 'Replace') {
            for (const r of active) {
              await this.client.delete(jobsRef, r.name, { uid: r.uid, propagationPolicy: 'Background' }).catch((err) => {
                if (!isKind(err, 'not-found')) throw err;
              });
              this.record(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${r.name}`);
            }
            active = [];
          }
          const job = await this.startJob(cj, t, tz, name);
          if (job && !active.some((r) => r.uid === job.metadata.uid)) {
            active.push({ kind: 'Job', namespace: ns, name: job.metadata.name!, uid: job.metadata.uid!, apiVersion: 'batch/v1', resourceVersion: job.metadata.resourceVersion });
            lastScheduleTime = iso(t);
          }
        }
      }
    }

    const status = { ...prev, active: active.length ? active : undefined, lastScheduleTime, lastSuccessfulTime };
    const patch: Record<string, unknown> = {};
    for (const k of new Set([...Object.keys(prev), ...Object.keys(status)])) {
      const v = (status as Record<string, unknown>)[k] ?? null;
      if (JSON.stringify(prev[k] ?? null) !== JSON.stringify(v)) patch[k] = v;
    }
    if (Object.keys(patch).length) {
      await this.client.patch(inNs(refs.cronjobs, ns), cj.metadata.name!, { metadata: { resourceVersion: cj.metadata.resourceVersion }, status: patch }, { subresource: 'status' });
    }
    if (wakeAt !== undefined) this.queue.addAfter(key, Math.max(wakeAt - Date.now(), 0) + 100);
  }

  /** Creates the Job for scheduled time t; an existing one of that name is this time's Job if this CronJob controls it. */
  private async startJob(cj: KubeObject, t: number, tz: string, name: string): Promise<KubeObject | undefined> {
    const tpl = structuredClone(cj.spec?.jobTemplate ?? {});
    const body = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: cj.metadata.namespace,
        labels: tpl.metadata?.labels ?? {},
        annotations: { ...(tpl.metadata?.annotations ?? {}), [scheduledTimestampAnnotation]: formatInZone(t, cj.spec?.timeZone ?? 'UTC') },
        ownerReferences: [ownerRefOf(cj, 'CronJob', 'batch/v1')],
      },
      spec: tpl.spec ?? {},
    };
    const jobsRef = inNs(refs.jobs, cj.metadata.namespace);
    try {
      const job = await this.client.create<KubeObject>(jobsRef, body);
      this.record(cj, 'Normal', 'SuccessfulCreate', `Created job ${name}`);
      return job;
    } catch (err) {
      if (!isKind(err, 'already-exists') && !isKind(err, 'conflict')) {
        this.record(cj, 'Warning', 'FailedCreate', `Error creating job: ${messageOf(err)}`);
        throw err;
      }
      const job = await this.client.getOrNull<KubeObject>(jobsRef, name);
      return job && controllerOf(job)?.uid === cj.metadata.uid ? job : undefined;
    }
  }

  /** Deletes the oldest of these finished Jobs beyond limit (by start time), with their pods. */
  private async trimHistory(cj: KubeObject, finished: KubeObject[], limit: number | undefined): Promise<void> {
    if (limit == null || finished.length <= limit) return;
    const started = (j: KubeObject) => Date.parse(j.status?.startTime ?? j.metadata.creationTimestamp ?? '') || 0;
    const oldest = [...finished].sort((a, b) => started(a) - started(b)).slice(0, finished.length - limit);
    for (const j of oldest) {
      if (j.metadata.deletionTimestamp) continue;
      await this.client.delete(inNs(refs.jobs, j.metadata.namespace), j.metadata.name!, { uid: j.metadata.uid, propagationPolicy: 'Background' }).catch((err) => {
        if (!isKind(err, 'not-found') && !isKind(err, 'conflict')) throw err;
      });
      this.record(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata.name}`);
    }
  }
}

