// DaemonSets through kubectl on a real cluster that grows a second node (a
// `tug agent` process joining the server): one pod per node, the node that
// joins later included, pods pinned by the matchFields affinity term with the
// daemon tolerations, a nodeSelector that leaves a node out, a rolling update
// (maxUnavailable, and maxSurge keeping the old pod until the new one is
// Ready), rollout status, history and undo.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { stringify } from 'yaml';
import type { RunResult } from '../../src/util/exec-file.js';
import { startAgentCluster, leftovers, suffix, type AgentCluster, type AgentProc } from '../cluster-agent/agent-cluster.js';

let c: AgentCluster | undefined;
let second: AgentProc | undefined;
const ns = `ds-${suffix()}`;
const secondNode = `ds-second-${suffix()}`;
const kns = (args: string[], opts: { input?: string; allowFailure?: boolean } = {}): Promise<RunResult> => c!.kubectl(['-n', ns, ...args], opts);
const json = async (args: string[]): Promise<any> => JSON.parse((await kns([...args, '-o', 'json'])).stdout);

const idle = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'];

function daemonSet(name: string, extra: { nodeSelector?: Record<string, string>; rollingUpdate?: Record<string, unknown> } = {}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      ...(extra.rollingUpdate ? { updateStrategy: { type: 'RollingUpdate', rollingUpdate: extra.rollingUpdate } } : {}),
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 2,
          ...(extra.nodeSelector ? { nodeSelector: extra.nodeSelector } : {}),
          containers: [{ name: 'c', image: 'busybox', command: idle, env: [{ name: 'VERSION', value: 'v1' }], readinessProbe: { exec: { command: ['true'] }, initialDelaySeconds: 1, periodSeconds: 1 } }],
        },
      },
    },
  };
}

const podsOf = async (app: string): Promise<any[]> => (await json(['get', 'pods', '-l', `app=${app}`])).items.filter((p: any) => !p.metadata.deletionTimestamp);
const nodesOf = (pods: any[]): string[] => pods.map((p) => p.spec.nodeName).sort();

before(async () => {
  c = await startAgentCluster();
  await c.kubectl(['create', 'namespace', ns]);
});

after(async () => {
  if (!c) return;
  await c.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { allowFailure: true });
  if (second) {
    const s = second;
    await c.until('no pods left on the second node', async () => (await c!.kubectl(['get', 'pods', '-A', '--field-selector', `spec.nodeName=${secondNode}`, '-o', 'name'])).stdout.trim() === '', 120).catch(() => undefined);
    await s.proc.stop();
    assert.deepEqual(await leftovers(s.dataDir, s.net), [], 'the second agent left nothing behind');
  }
  await c.stop();
});

test('one pod per node, the node that joins later included, pinned by matchFields with the daemon tolerations', async () => {
  await kns(['apply', '-f', '-'], { input: stringify(daemonSet('every')) });
  const out = await kns(['rollout', 'status', 'ds/every', '--timeout=120s']);
  assert.match(out.stdout, /daemon set "every" successfully rolled out/);
  assert.deepEqual(nodesOf(await podsOf('every')), [c!.nodeName]);

  second = await c!.startAgent(secondNode);
  const pods = await c!.until('a daemon pod on the new node too', async () => {
    const ps = await podsOf('every');
    return nodesOf(ps).join() === [c!.nodeName, secondNode].sort().join() && ps.every((p) => p.status?.phase === 'Running') ? ps : undefined;
  });
  for (const p of pods) {
    assert.deepEqual(p.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [p.spec.nodeName] }] }]);
    const tols = p.spec.tolerations.map((t: any) => `${t.key}:${t.effect}`);
    for (const t of ['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/disk-pressure:NoSchedule', 'node.kubernetes.io/memory-pressure:NoSchedule', 'node.kubernetes.io/pid-pressure:NoSchedule', 'node.kubernetes.io/unschedulable:NoSchedule']) assert.ok(tols.includes(t), `${p.metadata.name} tolerates ${t}: ${tols.join(' ')}`);
    assert.deepEqual(p.metadata.ownerReferences.map((r: any) => [r.kind, r.name, r.controller]), [['DaemonSet', 'every', true]]);
    assert.ok(p.metadata.labels['controller-revision-hash']);
    assert.equal(p.metadata.labels['pod-template-generation'], '1');
  }
  await kns(['rollout', 'status', 'ds/every', '--timeout=120s']);
  const ds = await json(['get', 'ds', 'every']);
  assert.deepEqual(
    ['desiredNumberScheduled', 'currentNumberScheduled', 'numberReady', 'updatedNumberScheduled', 'numberAvailable', 'numberMisscheduled'].map((k) => ds.status[k]),
    [2, 2, 2, 2, 2, 0],
  );
  assert.equal(ds.status.observedGeneration, ds.metadata.generation);
  const described = (await kns(['describe', 'ds', 'every'])).stdout;
  for (const p of pods) assert.match(described, new RegExp(`SuccessfulCreate\\s+.*Created pod: ${p.metadata.name}`));
});

test('a nodeSelector leaves out the node without the label, and a node given the label gets a pod', async () => {
  await c!.kubectl(['label', 'node', c!.nodeName, `ds-test-${ns}=daemon`]);
  await kns(['apply', '-f', '-'], { input: stringify(daemonSet('picky', { nodeSelector: { [`ds-test-${ns}`]: 'daemon' } })) });
  await kns(['rollout', 'status', 'ds/picky', '--timeout=120s']);
  assert.deepEqual(nodesOf(await podsOf('picky')), [c!.nodeName]);
  assert.equal((await json(['get', 'ds', 'picky'])).status.desiredNumberScheduled, 1);
  await c!.kubectl(['label', 'node', secondNode, `ds-test-${ns}=daemon`]);
  await c!.until('picky on both nodes', async () => nodesOf(await podsOf('picky')).join() === [c!.nodeName, secondNode].sort().join());
  // The label goes away: so does the daemon there.
  await c!.kubectl(['label', 'node', secondNode, `ds-test-${ns}-`]);
  await c!.until('picky only on the first node again', async () => nodesOf(await podsOf('picky')).join() === c!.nodeName);
  await c!.kubectl(['label', 'node', c!.nodeName, `ds-test-${ns}-`]);
  await kns(['delete', 'ds', 'picky', '--wait=true']);
});

test('rolling update (maxUnavailable 1): rollout status, history and undo', async () => {
  const rev1 = (await podsOf('every'))[0].metadata.labels['controller-revision-hash'];
  await kns(['set', 'env', 'ds/every', 'VERSION=v2']);
  const out = await kns(['rollout', 'status', 'ds/every', '--timeout=120s']);
  assert.match(out.stdout, /daemon set "every" successfully rolled out/);
  const pods = await podsOf('every');
  assert.equal(pods.length, 2);
  const rev2 = pods[0].metadata.labels['controller-revision-hash'];
  assert.notEqual(rev2, rev1);
  for (const p of pods) {
    assert.equal(p.metadata.labels['controller-revision-hash'], rev2);
    assert.equal((await kns(['exec', p.metadata.name, '--', 'sh', '-c', 'echo $VERSION'])).stdout.trim(), 'v2');
  }
  assert.match((await kns(['rollout', 'history', 'ds/every'])).stdout, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
  assert.match((await kns(['rollout', 'history', 'ds/every', '--revision=1'])).stdout, /VERSION:\s+v1/);
  assert.match((await kns(['rollout', 'undo', 'ds/every'])).stdout, /daemonset.apps\/every rolled back/);
  await kns(['rollout', 'status', 'ds/every', '--timeout=120s']);
  await c!.until('both daemon pods back at the first revision', async () => {
    const ps = await podsOf('every');
    return ps.length === 2 && ps.every((p) => p.metadata.labels['controller-revision-hash'] === rev1);
  });
  assert.match((await kns(['rollout', 'history', 'ds/every'])).stdout, /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>/);
});

test('rolling update with maxSurge 1: the new pod on a node is Ready before the old one there is deleted', async () => {
  await kns(['apply', '-f', '-'], { input: stringify(daemonSet('surge', { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } })) });
  await kns(['rollout', 'status', 'ds/surge', '--timeout=120s']);
  const env = c!.kubectlEnv;
  const watch = spawn('kubectl', ['-n', ns, 'get', 'pods', '-l', 'app=surge', '-w', '--output-watch-events', '-o', 'json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let raw = '';
  watch.stdout.on('data', (b: Buffer) => (raw += b.toString()));
  try {
    await c!.until('the watch started', async () => raw.includes('"ADDED"'));
    await kns(['set', 'env', 'ds/surge', 'VERSION=v2']);
    const out = await kns(['rollout', 'status', 'ds/surge', '--timeout=120s']);
    assert.match(out.stdout, /daemon set "surge" successfully rolled out/);
    await c!.until('both old pods deleted, seen by the watch', async () => (raw.match(/"type":\s*"DELETED"/g) ?? []).length >= 2);
  } finally {
    watch.kill();
  }
  const events = raw
    .split(/\n(?=\{)/)
    .filter((s) => s.trim())
    .map((s) => JSON.parse(s));
  const rev1 = events[0].object.metadata.labels['controller-revision-hash'];
  for (const node of [c!.nodeName, secondNode]) {
    const on = events.filter((e) => (e.object.spec.nodeName ?? e.object.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0]) === node);
    const oldGoing = on.findIndex((e) => e.object.metadata.labels['controller-revision-hash'] === rev1 && (e.object.metadata.deletionTimestamp || e.type === 'DELETED'));
    const newReady = on.findIndex((e) => e.object.metadata.labels['controller-revision-hash'] !== rev1 && e.object.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True'));
    // Kubernetes deletes an old pod that is not available at once (nothing to keep serving): on a loaded machine a
    // node can miss its heartbeats for a moment and its pods turn unready. Only a Ready old pod must outlive the new one.
    const oldWasReady = oldGoing >= 0 && on[oldGoing].object.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True');
    assert.ok(newReady >= 0 && (oldGoing > newReady || !oldWasReady), `${node}: new pod Ready at event ${newReady}, old pod (Ready: ${oldWasReady}) deleted at event ${oldGoing}`);
  }
});
