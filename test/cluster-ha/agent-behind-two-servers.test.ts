// HA and the node agent's streaming endpoint: a `tug agent` joined through
// server A checks its callers through A (TokenReview, SubjectAccessReview),
// and kubectl logs/exec through either server reach it, because every server
// of the cluster presents, and accepts, the same kubelet-client credential.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdCluster } from '../cluster-storage/etcd-harness.js';
import { startTestServer, suffix, type TestServer } from '../cluster/test-server.js';
import { startAgentProcess, readJoinCommand, leftovers, type AgentProc } from '../cluster-agent/agent-cluster.js';
import { until as untilShared, type UntilOptions } from '../helpers/until.js';

let etcd: EtcdCluster | undefined;
let a: TestServer | undefined;
let b: TestServer | undefined;
let agent: AgentProc | undefined;
const nodeName = `ha-node-${suffix()}`;
const pod = `ha-pod-${suffix()}`;

const until = <T>(what: string, fn: () => Promise<T | undefined | false>, o: UntilOptions = {}): Promise<T> => untilShared(what, fn, { everyMs: 500, ...o });

before(async () => {
  etcd = await startEtcd(1);
  const store = ['--store', 'etcd', '--etcd-endpoints', etcd.endpoints.join(','), '--etcd-prefix', `/tug-ha-agent-${suffix()}`];
  a = await startTestServer({ store });
  b = await startTestServer({ store });
  // The join command A wrote: its token and its CA pin (B shares the CA).
  agent = await startAgentProcess({ ...(await readJoinCommand(a.dataDir)), url: a.url, nodeName });
});

after(async () => {
  if (agent && a) {
    await a.kubectl(['delete', 'pod', pod, '--ignore-not-found', '--wait=true', '--timeout=60s'], { allowFailure: true });
    await agent.proc.stop();
    assert.deepEqual(await leftovers(agent.dataDir, agent.net), []);
    await agent.stop();
  }
  await a?.stop();
  await b?.stop();
  await etcd?.stop();
});

test('kubectl logs and exec through either server reach an agent that joined through A', async () => {
  const body = { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod }, spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo ha-hello; sleep 3600'] }] } };
  await a!.kubectl(['apply', '-f', '-'], { input: JSON.stringify(body) });
  await until('pod Running', async () => JSON.parse((await b!.kubectl(['get', 'pod', pod, '-o', 'json'])).stdout).status?.phase === 'Running');
  for (const [name, s] of [['A', a!], ['B', b!]] as const) {
    await until(`logs through ${name}`, async () => (await s.kubectl(['logs', pod], { allowFailure: true })).stdout === 'ha-hello\n');
    const r = await s.kubectl(['exec', pod, '--', 'echo', `exec-through-${name}`], { allowFailure: true });
    assert.equal(r.stdout, `exec-through-${name}\n`, `exec through ${name}: ${r.stderr}`);
  }
});
