// Jobs and CronJobs through kubectl on a real single-node `tug server`:
// completions with parallelism, backoffLimit and a podFailurePolicy ending a
// Job with Kubernetes' reasons, Indexed mode, activeDeadlineSeconds, suspend
// and resume, ttlSecondsAfterFinished, a CronJob every minute keeping its
// history limit, `kubectl create job --from=cronjob`, and the 422s for bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { runTool } from '../../src/util/exec-file.js';
import { leftovers } from '../cluster-agent/agent-cluster.js';
import { startE2eCluster, hex, type E2eCluster } from '../cluster-e2e/e2e-cluster.js';

let c: E2eCluster | undefined;
const ns = `jobs-${hex(3)}`;

const kubectl = (args: string[], input?: string) => c!.kubectl([...args, '-n', ns], { input });
const tryKubectl = (args: string[], input?: string) => c!.kubectl([...args, '-n', ns], { input, allowFailure: true });
const getJson = async (...what: string[]): Promise<any> => JSON.parse((await kubectl(['get', ...what, '-o', 'json'])).stdout);
const apply = (o: object) => kubectl(['apply', '-f', '-'], stringify(o));

function job(name: string, spec: Record<string, unknown>, command: string, podSpec: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      ...spec,
      template: { spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, ...podSpec, containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', command] }] } },
    },
  };
}

const cronJob = {
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name: 'tick' },
  spec: {
    schedule: '*/1 * * * *',
    successfulJobsHistoryLimit: 1,
    jobTemplate: { metadata: { labels: { from: 'tick' } }, spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo tick'] }] } } } },
  },
};

before(async () => {
  c = await startE2eCluster();
  await c.kubectl(['create', 'namespace', ns]);
  // The CronJob starts first: its test, last, then needs the least extra wait.
  await apply(cronJob);
});

after(async () => {
  if (!c) return;
  await c.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { allowFailure: true });
  // Finished pods leave the API at once; the node removes their containers just after. The node's
  // network is torn down at stop only once its engine is empty, so wait for that first.
  await c.until('node engine empty', async () => (await runTool('docker', ['-H', `unix://${c!.engineSocket}`, 'ps', '-aq'])).stdout.trim() === '');
  const { dataDir, net } = c;
  const out = c.output();
  await c.stop();
  assert.deepEqual(await leftovers(dataDir, net), [], out.slice(-3000));
});

const condition = (j: any, type: string) => (j.status?.conditions ?? []).find((x: any) => x.type === type && x.status === 'True');

test('completions 5, parallelism 2: never more than 2 at once, Complete with 5 succeeded, generated selector and labels', async () => {
  await apply(job('five', { completions: 5, parallelism: 2 }, 'sleep 1'));
  const created = await getJson('job/five');
  const uid = created.metadata.uid;
  assert.deepEqual(created.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
  assert.equal(created.spec.template.metadata.labels['batch.kubernetes.io/job-name'], 'five');
  assert.equal(created.spec.template.metadata.labels['controller-uid'], uid);
  assert.equal(created.spec.backoffLimit, 6);
  assert.equal(created.spec.completionMode, 'NonIndexed');
  let maxActive = 0;
  await c!.until('job five Complete', async () => {
    const j = await getJson('job/five');
    maxActive = Math.max(maxActive, j.status?.active ?? 0);
    return condition(j, 'Complete');
  });
  assert.ok(maxActive <= 2, `at most 2 active at once, saw ${maxActive}`);
  await kubectl(['wait', '--for=condition=complete', 'job/five', '--timeout=10s']);
  const j = await getJson('job/five');
  assert.equal(j.status.succeeded, 5);
  assert.equal(j.status.active, undefined);
  assert.ok(j.status.startTime && j.status.completionTime);
  assert.ok(condition(j, 'SuccessCriteriaMet'));
  assert.equal(condition(j, 'Complete').reason, 'CompletionsReached');
  const pods = await getJson('pods', '-l', 'batch.kubernetes.io/job-name=five');
  assert.equal(pods.items.length, 5);
  assert.ok(pods.items.every((p: any) => p.status.phase === 'Succeeded' && p.metadata.labels['job-name'] === 'five'));
  // Counted, so the job-tracking finalizer is gone from every pod.
  assert.ok(pods.items.every((p: any) => !(p.metadata.finalizers ?? []).includes('batch.kubernetes.io/job-tracking')));
  assert.deepEqual(j.status.uncountedTerminatedPods, {});
  const table = (await kubectl(['get', 'job', 'five'])).stdout;
  assert.match(table, /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE/);
  assert.match(table, /five\s+Complete\s+5\/5\s+\d+s/);
});

test('a failing Job stops at backoffLimit with BackoffLimitExceeded; a podFailurePolicy FailJob rule ends one at once', async () => {
  await apply(job('fails', { backoffLimit: 1 }, 'exit 3'));
  await apply(job('policy', { backoffLimit: 5, podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }] } }, 'exit 42'));
  await kubectl(['wait', '--for=condition=failed', 'job/fails', '--timeout=120s']);
  const j = await getJson('job/fails');
  assert.equal(condition(j, 'Failed').reason, 'BackoffLimitExceeded');
  assert.equal(condition(j, 'Failed').message, 'Job has reached the specified backoff limit');
  assert.equal(j.status.failed, 2);
  assert.equal((await getJson('pods', '-l', 'job-name=fails')).items.length, 2, 'one pod and one retry, none after');
  assert.match((await kubectl(['get', 'job', 'fails'])).stdout, /fails\s+Failed\s+0\/1/);
  await kubectl(['wait', '--for=condition=failed', 'job/policy', '--timeout=60s']);
  const p = await getJson('job/policy');
  assert.equal(condition(p, 'Failed').reason, 'PodFailurePolicy');
  assert.match(condition(p, 'Failed').message, /^Container c for pod .*\/policy-\w+ failed with exit code 42 matching FailJob rule at index 0$/);
  assert.equal(p.status.failed, 1);
});

test('Indexed: each pod gets its index (env, annotation, label, hostname) and completedIndexes is recorded', async () => {
  await apply(job('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }, 'echo "index=$JOB_COMPLETION_INDEX host=$(hostname)"'));
  await kubectl(['wait', '--for=condition=complete', 'job/idx', '--timeout=120s']);
  const j = await getJson('job/idx');
  assert.equal(j.status.completedIndexes, '0-2');
  assert.equal(j.status.succeeded, 3);
  const pods = (await getJson('pods', '-l', 'job-name=idx')).items;
  const seen = new Set<string>();
  for (const p of pods) {
    const i = p.metadata.annotations['batch.kubernetes.io/job-completion-index'];
    assert.equal(p.metadata.labels['batch.kubernetes.io/job-completion-index'], i);
    assert.ok(p.metadata.name.startsWith(`idx-${i}-`));
    const log = (await kubectl(['logs', p.metadata.name])).stdout.trim();
    assert.equal(log, `index=${i} host=idx-${i}`);
    seen.add(i);
  }
  assert.deepEqual([...seen].sort(), ['0', '1', '2']);
});

test('activeDeadlineSeconds: the running pod is stopped and the Job fails with DeadlineExceeded', async () => {
  await apply(job('deadline', { activeDeadlineSeconds: 3 }, 'sleep 300'));
  await kubectl(['wait', '--for=condition=failed', 'job/deadline', '--timeout=120s']);
  const j = await getJson('job/deadline');
  assert.equal(condition(j, 'Failed').reason, 'DeadlineExceeded');
  assert.equal(condition(j, 'Failed').message, 'Job was active longer than specified deadline');
  assert.ok(condition(j, 'FailureTarget'));
  await c!.until('deadline pods gone', async () => (await getJson('pods', '-l', 'job-name=deadline')).items.length === 0);
});

test('suspend: no pods while suspended (condition Suspended), resume runs it to completion', async () => {
  await apply(job('later', { suspend: true }, 'sleep 1'));
  await c!.until('Suspended condition', async () => condition(await getJson('job/later'), 'Suspended'));
  assert.equal((await getJson('pods', '-l', 'job-name=later')).items.length, 0);
  assert.match((await kubectl(['get', 'job', 'later'])).stdout, /later\s+Suspended/);
  await kubectl(['patch', 'job', 'later', '--type=merge', '-p', '{"spec":{"suspend":false}}']);
  await kubectl(['wait', '--for=condition=complete', 'job/later', '--timeout=120s']);
  const j = await getJson('job/later');
  const s = j.status.conditions.find((x: any) => x.type === 'Suspended');
  assert.equal(s.status, 'False');
  assert.equal(s.reason, 'JobResumed');
  // Suspending a running Job deletes its pods.
  await apply(job('paused', {}, 'sleep 300'));
  await c!.until('paused running', async () => (await getJson('job/paused')).status?.active === 1);
  await kubectl(['patch', 'job', 'paused', '--type=merge', '-p', '{"spec":{"suspend":true}}']);
  await c!.until('paused pods deleted', async () => (await getJson('pods', '-l', 'job-name=paused')).items.length === 0);
  assert.ok(condition(await getJson('job/paused'), 'Suspended'));
});

test('kubectl delete job with running pods leaves nothing behind, --cascade=orphan leaves a free pod (the tracking finalizer is released)', async () => {
  await apply(job('gone', { parallelism: 2, completions: 4 }, 'sleep 300'));
  await c!.until('gone running', async () => (await getJson('job/gone')).status?.active === 2);
  const running = (await getJson('pods', '-l', 'job-name=gone')).items;
  assert.ok(running.every((p: any) => p.metadata.finalizers.includes('batch.kubernetes.io/job-tracking')));
  await kubectl(['delete', 'job', 'gone', '--wait=true', '--timeout=120s']);
  await c!.until('gone pods deleted', async () => (await getJson('pods', '-l', 'job-name=gone')).items.length === 0);
  // --cascade=orphan: the pod stays, without owner and without the finalizer, and can be deleted.
  await apply(job('orph', {}, 'sleep 300'));
  await c!.until('orph running', async () => (await getJson('job/orph')).status?.active === 1);
  await kubectl(['delete', 'job', 'orph', '--cascade=orphan']);
  const [left] = await c!.until('orph pod released', async () => {
    const items = (await getJson('pods', '-l', 'job-name=orph')).items;
    return items.length === 1 && !items[0].metadata.ownerReferences && !(items[0].metadata.finalizers ?? []).length && items;
  });
  await kubectl(['delete', 'pod', left.metadata.name, '--wait=true', '--timeout=60s']);
});

test('ttlSecondsAfterFinished deletes the finished Job and its pods', async () => {
  await apply(job('brief', { ttlSecondsAfterFinished: 2 }, 'true'));
  await c!.until('job brief deleted', async () => (await tryKubectl(['get', 'job', 'brief'])).code !== 0);
  await c!.until('brief pods deleted', async () => (await getJson('pods', '-l', 'job-name=brief')).items.length === 0);
});

test('bad input: the 422s Kubernetes gives', async () => {
  const bad = await tryKubectl(['create', 'cronjob', 'bad', '--image=busybox', '--schedule=61 * * * *']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /CronJob.batch "bad" is invalid: spec.schedule: Invalid value: "61 \* \* \* \*": end of range \(61\) above maximum \(59\): 61/);
  const tz = await tryKubectl(['apply', '-f', '-'], stringify({ ...cronJob, metadata: { name: 'tz' }, spec: { ...cronJob.spec, timeZone: 'Mars/Olympus' } }));
  assert.match(tz.stderr, /spec.timeZone: Invalid value: "Mars\/Olympus": unknown time zone Mars\/Olympus/);
  const sel = await tryKubectl(['apply', '-f', '-'], stringify({ ...job('sel', {}, 'true'), spec: { ...(job('sel', {}, 'true') as any).spec, selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: (job('sel', {}, 'true') as any).spec.template.spec } } }));
  assert.match(sel.stderr, /Job "sel" is invalid: spec.selector: Invalid value: v1.LabelSelector\{MatchLabels:map\[string\]string\{"app":"x", "batch.kubernetes.io\/controller-uid":"[0-9a-f-]+"\}, MatchExpressions:\[\]v1.LabelSelectorRequirement\(nil\)\}: `selector` not auto-generated/);
  const idx = await tryKubectl(['apply', '-f', '-'], stringify(job('noc', { completionMode: 'Indexed', parallelism: 2 }, 'true')));
  assert.match(idx.stderr, /spec.completions: Required value: when completion mode is Indexed/);
  const rp = await tryKubectl(['create', 'job', 'always', '--image=busybox', '--dry-run=server', '-o', 'yaml', '--', 'true']);
  assert.equal(rp.code, 0, 'kubectl create job sets restartPolicy Never');
  const immutable = await tryKubectl(['patch', 'job', 'five', '--type=merge', '-p', '{"spec":{"template":{"spec":{"activeDeadlineSeconds":5}}}}']);
  assert.match(immutable.stderr, /spec.template: Invalid value: .*: field is immutable/);
  for (const name of ['bad', 'tz', 'sel', 'noc']) assert.notEqual((await tryKubectl(['get', name === 'bad' || name === 'tz' ? 'cronjob' : 'job', name])).code, 0, `${name} was not created`);
});

test('kubectl create job --from=cronjob runs the template now', async () => {
  // A suspended CronJob of its own, so the every-minute one's history trimming cannot touch this Job.
  await apply({ ...cronJob, metadata: { name: 'source' }, spec: { ...cronJob.spec, schedule: '@yearly', suspend: true } });
  await kubectl(['create', 'job', 'manual', '--from=cronjob/source']);
  await kubectl(['wait', '--for=condition=complete', 'job/manual', '--timeout=120s']);
  const j = await getJson('job/manual');
  assert.equal(j.metadata.annotations['cronjob.kubernetes.io/instantiate'], 'manual');
  assert.equal(j.metadata.ownerReferences[0].kind, 'CronJob');
  assert.equal(j.metadata.ownerReferences[0].name, 'source');
  assert.equal(j.metadata.labels.from, 'tick');
  assert.equal(j.status.succeeded, 1);
});

test('a CronJob every minute makes Jobs named by the minute and keeps one successful Job', async () => {
  const cj = await getJson('cronjob/tick');
  const minuteJobs = async () => (await getJson('jobs')).items.filter((j: any) => j.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']);
  const names = new Set<string>();
  // Two schedule times: at most ~2 minutes after the CronJob was created.
  await c!.until(
    'two scheduled Jobs, the older one trimmed',
    async () => {
      const jobs = await minuteJobs();
      for (const j of jobs) names.add(j.metadata.name);
      const done = jobs.filter((j: any) => condition(j, 'Complete'));
      return names.size >= 2 && done.length === 1 && jobs.length === 1;
    },
    360,
  );
  const [j] = await minuteJobs();
  const stamp = j.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp'];
  assert.match(stamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/);
  assert.equal(j.metadata.name, `tick-${Date.parse(stamp) / 60_000}`);
  assert.equal(j.metadata.ownerReferences[0].uid, cj.metadata.uid);
  assert.equal(j.metadata.labels.from, 'tick');
  const now = await getJson('cronjob/tick');
  assert.ok(now.status.lastScheduleTime && now.status.lastSuccessfulTime);
  assert.match((await kubectl(['get', 'cronjob', 'tick'])).stdout, /tick\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+\d/);
});
