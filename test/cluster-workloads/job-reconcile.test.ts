// The Job controller's reconcile(key) and the CronJob schedule arithmetic
// without a server (the fake client of the controller tests records each
// write): finished pods counted through uncountedTerminatedPods and the
// job-tracking finalizer, Indexed pods, the failure back-off, podFailurePolicy
// Ignore, the backoffLimit ending, the most recent unmet schedule time with
// startingDeadlineSeconds and the too-many-missed count, and the CronJob's
// concurrencyPolicy (Forbid, Replace, Allow).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedInformers, refs } from '../../src/kube/client/shared-informers.js';
import { JobController } from '../../src/controllers/job-controller.js';
import { CronJobController, mostRecentScheduleTime } from '../../src/controllers/cronjob-controller.js';
import { parseSchedule } from '../../src/kube/api/cron-schedule.js';
import type { KubeObject } from '../../src/kube/client/kube-client.js';
import { FakeClient } from '../cluster-controllers/fake-client.js';

const owner = { apiVersion: 'batch/v1', kind: 'Job', name: 'j', uid: 'job-uid', controller: true, blockOwnerDeletion: true };
const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString().replace(/\.\d+Z$/, 'Z');

function job(spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name: 'j', namespace: 'default', uid: 'job-uid', resourceVersion: '10', creationTimestamp: iso(60_000) },
    spec: { parallelism: 1, completions: 1, backoffLimit: 6, completionMode: 'NonIndexed', ...spec, template: { metadata: { labels: { 'batch.kubernetes.io/controller-uid': 'job-uid' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    status: { startTime: iso(30_000), ...status },
  };
}

/** A pod of the Job; tracked (the default) means it still holds the job-tracking finalizer, i.e. is not counted yet. */
function pod(name: string, phase: string, o: { index?: number; exitCode?: number; finishedMsAgo?: number; tracked?: boolean } = {}): KubeObject {
  const ann: Record<string, string> = o.index === undefined ? {} : { 'batch.kubernetes.io/job-completion-index': String(o.index) };
  const terminated = o.exitCode === undefined ? undefined : { exitCode: o.exitCode, finishedAt: iso(o.finishedMsAgo ?? 1000) };
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '5', annotations: ann, creationTimestamp: iso(20_000), ownerReferences: [owner], ...(o.tracked === false ? {} : { finalizers: ['batch.kubernetes.io/job-tracking'] }) },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
    status: { phase, containerStatuses: terminated ? [{ name: 'c', restartCount: 0, state: { terminated } }] : [] },
  };
}

async function reconcileOnce(j: KubeObject, pods: KubeObject[]): Promise<FakeClient> {
  const client = new FakeClient().seed(refs.jobs, j).seed(refs.pods, ...pods);
  const informers = new SharedInformers(client);
  const controller = new JobController(informers, client);
  await informers.start();
  try {
    await controller.reconcile('default/j');
  } finally {
    controller.stop();
    informers.stop();
  }
  // Events are best effort and beside the point here.
  client.actions.splice(0, client.actions.length, ...client.actions.filter((a) => a.resource !== 'events'));
  return client;
}

test('Indexed: pods for the lowest missing indexes, each with its index, hostname and JOB_COMPLETION_INDEX; completedIndexes written', async () => {
  const c = await reconcileOnce(job({ completionMode: 'Indexed', completions: 4, parallelism: 2 }), [pod('j-0-a', 'Succeeded', { index: 0, exitCode: 0 }), pod('j-2-a', 'Running', { index: 2 })]);
  // The finished pod is recorded as uncounted, let go of its finalizer, then counted.
  assert.deepEqual(c.summary(), ['patch batch/jobs default/j status', 'patch pods default/j-0-a', 'create pods default/j-1-00001', 'patch batch/jobs default/j status']);
  assert.deepEqual(c.actions[0].body.status.uncountedTerminatedPods, { succeeded: ['uid-j-0-a'], failed: [] });
  assert.equal(c.actions[0].body.status.completedIndexes, '0');
  assert.deepEqual(c.actions[1].body, { metadata: { finalizers: null, resourceVersion: '5' } });
  const body = c.actions[2].body;
  assert.equal(body.metadata.generateName, 'j-1-');
  assert.equal(body.metadata.annotations['batch.kubernetes.io/job-completion-index'], '1');
  assert.equal(body.metadata.labels['batch.kubernetes.io/job-completion-index'], '1');
  assert.equal(body.spec.hostname, 'j-1');
  assert.deepEqual(body.spec.containers[0].env, [{ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } }]);
  assert.deepEqual(body.metadata.ownerReferences, [owner]);
  assert.deepEqual(body.metadata.finalizers, ['batch.kubernetes.io/job-tracking']);
  const status = c.actions[3].body.status;
  assert.equal(status.succeeded, 1);
  assert.equal(status.active, 1);
  assert.deepEqual(status.uncountedTerminatedPods, { succeeded: null, failed: null });
  assert.equal(c.actions[0].body.metadata.resourceVersion, '10');
});

test('back-off: no new pod until 10 s after the first failure, then one', async () => {
  const waiting = await reconcileOnce(job({}), [pod('f1', 'Failed', { exitCode: 1, finishedMsAgo: 3000 })]);
  assert.deepEqual(waiting.summary(), ['patch batch/jobs default/j status', 'patch pods default/f1', 'patch batch/jobs default/j status']);
  assert.equal(waiting.actions[2].body.status.failed, 1);
  // Counted before (no finalizer left): not counted again.
  const ready = await reconcileOnce(job({}, { failed: 1 }), [pod('f1', 'Failed', { exitCode: 1, finishedMsAgo: 11_000, tracked: false })]);
  assert.deepEqual(ready.summary(), ['create pods default/j-00001', 'patch batch/jobs default/j status']);
  assert.equal(ready.actions[1].body.status.failed, undefined);
  // Two failures: 20 s.
  const second = await reconcileOnce(job({}, { failed: 2 }), [pod('f1', 'Failed', { exitCode: 1, finishedMsAgo: 40_000, tracked: false }), pod('f2', 'Failed', { exitCode: 1, finishedMsAgo: 15_000, tracked: false })]);
  assert.deepEqual(second.summary(), ['patch batch/jobs default/j status']);
});

test('podFailurePolicy Ignore: the failure neither counts nor delays the next pod', async () => {
  const policy = { rules: [{ action: 'Ignore', onExitCodes: { operator: 'In', values: [42] } }] };
  const c = await reconcileOnce(job({ podFailurePolicy: policy, backoffLimit: 0 }), [pod('f1', 'Failed', { exitCode: 42, finishedMsAgo: 1000 })]);
  assert.deepEqual(c.summary(), ['patch pods default/f1', 'create pods default/j-00001', 'patch batch/jobs default/j status']);
  assert.equal(c.actions[2].body.status.failed, undefined);
});

test('backoffLimit exceeded with nothing running: FailureTarget and Failed in one write, no completionTime', async () => {
  const c = await reconcileOnce(job({ backoffLimit: 1 }), [pod('f1', 'Failed', { exitCode: 1, finishedMsAgo: 30_000 }), pod('f2', 'Failed', { exitCode: 1, finishedMsAgo: 1000 })]);
  assert.deepEqual(c.summary(), ['patch batch/jobs default/j status', 'patch pods default/f1', 'patch pods default/f2', 'patch batch/jobs default/j status']);
  assert.deepEqual(c.actions[0].body.status.uncountedTerminatedPods.failed, ['uid-f1', 'uid-f2']);
  const st = c.actions[3].body.status;
  assert.deepEqual(st.conditions.map((x: any) => [x.type, x.status, x.reason]), [['FailureTarget', 'True', 'BackoffLimitExceeded'], ['Failed', 'True', 'BackoffLimitExceeded']]);
  assert.equal(st.failed, 2);
  assert.equal(st.completionTime, undefined);
});

test('CronJob: the most recent unmet time, bounded by startingDeadlineSeconds, and the missed count', () => {
  const sched = parseSchedule('*/1 * * * *');
  const created = Date.parse('2026-12-06T03:00:30Z');
  const cj = (status: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): KubeObject => ({ metadata: { name: 'c', creationTimestamp: new Date(created).toISOString() }, spec, status });
  assert.deepEqual(mostRecentScheduleTime(cj(), sched, 'UTC', Date.parse('2026-12-06T03:00:59Z'), true), { missed: 0 });
  assert.deepEqual(mostRecentScheduleTime(cj(), sched, 'UTC', Date.parse('2026-12-06T03:01:05Z'), true), { time: Date.parse('2026-12-06T03:01:00Z'), missed: 1 });
  const late = mostRecentScheduleTime(cj(), sched, 'UTC', Date.parse('2026-12-06T05:00:05Z'), true);
  assert.equal(late.time, Date.parse('2026-12-06T05:00:00Z'));
  assert.ok(late.missed > 100, `missed ${late.missed}`);
  // With a 5-minute starting deadline only the last five minutes count.
  const bounded = mostRecentScheduleTime(cj({}, { startingDeadlineSeconds: 300 }), sched, 'UTC', Date.parse('2026-12-06T05:00:05Z'), true);
  assert.equal(bounded.time, Date.parse('2026-12-06T05:00:00Z'));
  assert.ok(bounded.missed <= 6);
  // Already scheduled for 05:00: nothing unmet until 05:01.
  assert.deepEqual(mostRecentScheduleTime(cj({ lastScheduleTime: '2026-12-06T05:00:00Z' }), sched, 'UTC', Date.parse('2026-12-06T05:00:30Z'), true), { missed: 0 });
});

function cronJob(policy: string, lastSchedule: string): KubeObject {
  return {
    metadata: { name: 'cj', namespace: 'default', uid: 'cj-uid', resourceVersion: '7', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { schedule: '*/1 * * * *', timeZone: 'UTC', concurrencyPolicy: policy, suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1, jobTemplate: { metadata: { labels: { a: 'b' } }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } },
    status: { lastScheduleTime: lastSchedule, active: [{ kind: 'Job', namespace: 'default', name: 'cj-1', uid: 'running-uid', apiVersion: 'batch/v1' }] },
  };
}

const runningJob: KubeObject = {
  metadata: { name: 'cj-1', namespace: 'default', uid: 'running-uid', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'cj', uid: 'cj-uid', controller: true }] },
  spec: {},
  status: { active: 1 },
};

/** One reconcile with the last run two minutes back (so this minute's time is due); returns that minute too. */
async function cronReconcile(policy: string): Promise<{ client: FakeClient; due: number }> {
  for (;;) {
    const due = Math.floor(Date.now() / 60_000);
    const client = await cronReconcileAt(policy, due);
    // Run again if the clock crossed a minute meanwhile, so the expected name is certain.
    if (Math.floor(Date.now() / 60_000) === due) return { client, due };
  }
}

async function cronReconcileAt(policy: string, due: number): Promise<FakeClient> {
  const last = new Date((due - 2) * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const client = new FakeClient().seed(refs.cronjobs, cronJob(policy, last)).seed(refs.jobs, runningJob);
  const informers = new SharedInformers(client);
  const controller = new CronJobController(informers, client);
  await informers.start();
  try {
    await controller.reconcile('default/cj');
  } finally {
    controller.stop();
    informers.stop();
  }
  client.actions.splice(0, client.actions.length, ...client.actions.filter((a) => a.resource !== 'events'));
  return client;
}

test('CronJob concurrencyPolicy: Forbid waits for the running Job, Replace deletes it first, Allow runs beside it', async () => {
  const { client: forbid } = await cronReconcile('Forbid');
  assert.deepEqual(forbid.summary(), []);
  const { client: replace, due } = await cronReconcile('Replace');
  assert.deepEqual(replace.summary(), ['delete batch/jobs default/cj-1', `create batch/jobs default/cj-${due}`, 'patch batch/cronjobs default/cj status']);
  assert.deepEqual(replace.actions[0].options, { uid: 'running-uid', propagationPolicy: 'Background' });
  const created = replace.actions[1].body;
  assert.equal(created.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp'], new Date(due * 60_000).toISOString().replace(/\.\d+Z$/, 'Z'));
  assert.deepEqual(created.metadata.labels, { a: 'b' });
  assert.equal(created.metadata.ownerReferences[0].uid, 'cj-uid');
  const st = replace.actions[2].body.status;
  assert.deepEqual(st.active.map((r: any) => r.name), [`cj-${due}`]);
  const { client: allow, due: allowDue } = await cronReconcile('Allow');
  assert.deepEqual(allow.summary(), [`create batch/jobs default/cj-${allowDue}`, 'patch batch/cronjobs default/cj status']);
  assert.deepEqual(allow.actions[1].body.status.active.map((r: any) => r.name), ['cj-1', `cj-${allowDue}`]);
});
