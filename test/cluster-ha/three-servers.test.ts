// The HA topology of the README: three `tug server`s on a three-member etcd,
// and a `tug agent` that knows all three (--server A,B,C) and joined through
// A. Then A is killed (kill -9) and so is the etcd member every server was
// talking to. What must hold: every object acknowledged before is still
// there; kubectl works through B; the scheduler and controllers move to a
// surviving server (their Leases change holder); the agent moves to another
// server, keeps its node Ready and runs the pods of a Deployment created after
// the loss.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdCluster } from '../cluster-storage/etcd-harness.js';
import { startTestServer, suffix, type TestServer } from '../cluster/test-server.js';
import { startAgentProcess, readJoinCommand, leftovers, type AgentProc } from '../cluster-agent/agent-cluster.js';
import { until as untilShared, type UntilOptions } from '../helpers/until.js';

let etcd: EtcdCluster | undefined;
const servers: TestServer[] = [];
let agent: AgentProc | undefined;
const nodeName = `ha3-node-${suffix()}`;
const ns = `ha3-${suffix()}`;
const written = 30;

const until = <T>(what: string, fn: () => Promise<T | undefined | false>, o: UntilOptions = {}): Promise<T> => untilShared(what, fn, { everyMs: 500, ignoreErrors: true, ...o });

const holderPid = async (s: TestServer, lease: string): Promise<number> =>
  Number(/_(\d+)_[0-9a-f]+$/.exec((await s.kubectl(['-n', 'kube-system', 'get', 'lease', lease, '-o', 'jsonpath={.spec.holderIdentity}'], { allowFailure: true })).stdout.trim())?.[1] ?? 0);

const nodeReady = async (s: TestServer): Promise<boolean> => {
  const node = JSON.parse((await s.kubectl(['get', 'node', nodeName, '-o', 'json'])).stdout);
  return node.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';
};

before(async () => {
  etcd = await startEtcd(3);
  const store = ['--store', 'etcd', '--etcd-endpoints', etcd.endpoints.join(','), '--etcd-prefix', `/tug-ha3-${suffix()}`];
  servers.push(await startTestServer({ store }));
  const [a] = servers;
  // A leads before B and C start (so the test knows the leader), and it is the agent's first server.
  await until('A leads', async () => (await holderPid(a, 'kube-controller-manager')) === a.pid && (await holderPid(a, 'kube-scheduler')) === a.pid);
  servers.push(await startTestServer({ store }), await startTestServer({ store }));
  const join = await readJoinCommand(a.dataDir);
  agent = await startAgentProcess({ ...join, url: servers.map((s) => s.url).join(','), nodeName });
  await until('node Ready', () => nodeReady(a));
  await a.kubectl(['create', 'namespace', ns]);
  // Acknowledged writes before the loss: each kubectl create returned success.
  const items = Array.from({ length: written }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `before-${i}`, namespace: ns }, data: { i: String(i) } }));
  await a.kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
  await etcd.kill(0);
  process.kill(a.pid, 'SIGKILL');
});

after(async () => {
  const b = servers[1];
  if (agent && b) {
    await b.kubectl(['-n', ns, 'delete', 'deployment', 'after', '--ignore-not-found', '--wait=true', '--timeout=60s'], { allowFailure: true });
    await until('pods gone', async () => JSON.parse((await b.kubectl(['-n', ns, 'get', 'pods', '-o', 'json'])).stdout).items.length === 0, { tries: 120 });
    await agent.proc.stop();
    assert.deepEqual(await leftovers(agent.dataDir, agent.net), []);
    await agent.stop();
  }
  for (const s of servers) await s.stop();
  await etcd?.stop();
});

test('every object written before the loss of a server and an etcd member is there', async () => {
  const b = servers[1];
  const got = await until('list through B', async () => JSON.parse((await b.kubectl(['-n', ns, 'get', 'configmaps', '-o', 'json'])).stdout).items as { metadata: { name: string }; data?: { i?: string } }[]);
  const mine = got.filter((c) => c.metadata.name.startsWith('before-'));
  assert.equal(mine.length, written);
  for (const c of mine) assert.equal(c.metadata.name, `before-${c.data?.i}`);
  // And writes go on through C (quorum: two members of three).
  await servers[2].kubectl(['-n', ns, 'create', 'configmap', 'after-loss', '--from-literal=k=v']);
  assert.equal((await b.kubectl(['-n', ns, 'get', 'cm', 'after-loss', '-o', 'jsonpath={.data.k}'])).stdout, 'v');
});

test('the scheduler and the controllers move to a surviving server', async () => {
  const [a, b, c] = servers;
  for (const lease of ['kube-scheduler', 'kube-controller-manager']) {
    const pid = await until(`${lease} held by B or C`, async () => {
      const p = await holderPid(b, lease);
      return p !== a.pid && (p === b.pid || p === c.pid) ? p : undefined;
    });
    assert.ok(pid === b.pid || pid === c.pid);
  }
});

test('the agent that joined through A moves to another server: its node stays Ready and runs a new Deployment', async () => {
  const b = servers[1];
  // The node Lease is renewed through a live server after A died.
  const renewTime = async () => (await b.kubectl(['-n', 'kube-node-lease', 'get', 'lease', nodeName, '-o', 'jsonpath={.spec.renewTime}'])).stdout;
  const first = await renewTime();
  await until('node lease renewed after the loss', async () => (await renewTime()) !== first);
  assert.ok(await nodeReady(b));
  await b.kubectl(['-n', ns, 'create', 'deployment', 'after', '--image', 'busybox', '--replicas', '2', '--', 'sleep', '3600']);
  const running = await until('2 pods Running', async () => {
    const pods = JSON.parse((await b.kubectl(['-n', ns, 'get', 'pods', '-l', 'app=after', '-o', 'json'])).stdout).items as { spec: { nodeName?: string }; status: { phase?: string } }[];
    return pods.length === 2 && pods.every((p) => p.status.phase === 'Running') ? pods : undefined;
  });
  for (const p of running) assert.equal(p.spec.nodeName, nodeName);
  assert.ok(await nodeReady(b));
});
