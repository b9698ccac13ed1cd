// Leader election between `tug server`s on one etcd: exactly one server holds
// kube-scheduler and kube-controller-manager, so the controllers act once (a
// ReplicaSet of 3 gets 3 pods and no pod is ever created beyond them), and
// after kill -9 of the leader's process both Leases move to the other server,
// whose controllers then act alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdCluster } from '../cluster-storage/etcd-harness.js';
import { startTestServer, suffix, type TestServer } from '../cluster/test-server.js';
import { KubeClient } from '../../src/kube/client/kube-client.js';
import { until } from '../helpers/until.js';

let etcd: EtcdCluster | undefined;
let a: TestServer | undefined;
let b: TestServer | undefined;
const ns = `le-${suffix()}`;

/** The pid in a server's leader election identity (host_pid_random). */
async function holders(s: TestServer): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const lease of ['kube-scheduler', 'kube-controller-manager']) {
    const r = await s.kubectl(['-n', 'kube-system', 'get', 'lease', lease, '-o', 'jsonpath={.spec.holderIdentity}'], { allowFailure: true });
    out[lease] = Number(/_(\d+)_[0-9a-f]+$/.exec(r.stdout.trim())?.[1] ?? 0);
  }
  return out;
}

function replicaSet(name: string): string {
  return JSON.stringify({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, namespace: ns }, spec: { replicas: 3, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } });
}

/**
 * How many pods were ever created for a new ReplicaSet of 3 (a watch counts
 * every ADDED), and how many it has once it reports 3 replicas. A marker pod
 * created afterwards closes the count: the watch delivers in order, so once
 * the marker is seen every pod created before it has been seen too.
 */
async function createdPods(s: TestServer, name: string): Promise<{ pods: number; created: number }> {
  const client = await KubeClient.fromKubeconfig(s.kubeconfig);
  const ref = { group: '', version: 'v1', resource: 'pods', namespace: ns };
  const added = new Set<string>();
  const abort = new AbortController();
  try {
    const rv = (await client.list(ref)).metadata.resourceVersion;
    let sawMarker: () => void = () => undefined;
    const marker = new Promise<void>((r) => (sawMarker = r));
    const watching = (async () => {
      for await (const ev of client.watch(ref, { resourceVersion: rv, signal: abort.signal })) {
        if (ev.type !== 'ADDED') continue;
        if (ev.object.metadata.name === `${name}-marker`) sawMarker();
        else if (ev.object.metadata.labels?.app === name) added.add(ev.object.metadata.name!);
      }
    })();
    await s.kubectl(['apply', '-f', '-'], { input: replicaSet(name) });
    await until(`${name} has 3 replicas`, async () => JSON.parse((await s.kubectl(['-n', ns, 'get', 'rs', name, '-o', 'json'])).stdout).status?.replicas === 3);
    const pods = JSON.parse((await s.kubectl(['-n', ns, 'get', 'pods', '-l', `app=${name}`, '-o', 'json'])).stdout).items.length;
    await s.kubectl(['-n', ns, 'run', `${name}-marker`, '--image', 'busybox', '--restart', 'Never']);
    await marker;
    abort.abort();
    await watching;
    return { pods, created: added.size };
  } finally {
    abort.abort();
    client.close();
  }
}

before(async () => {
  etcd = await startEtcd(1);
  const store = ['--store', 'etcd', '--etcd-endpoints', etcd.endpoints.join(','), '--etcd-prefix', `/tug-le-${suffix()}`];
  a = await startTestServer({ store });
  // A holds both Leases before B starts, so the test knows whom to kill.
  await until('A leads', async () => Object.values(await holders(a!)).every((p) => p === a!.pid));
  b = await startTestServer({ store });
  await a.kubectl(['create', 'namespace', ns]);
});

after(async () => {
  await a?.stop();
  await b?.stop();
  await etcd?.stop();
});

test('one server leads both; a ReplicaSet of 3 gets exactly 3 pods', async () => {
  const h = await holders(b!);
  assert.deepEqual(h, { 'kube-scheduler': a!.pid, 'kube-controller-manager': a!.pid });
  assert.deepEqual(await createdPods(b!, 'before'), { pods: 3, created: 3 });
});

test('kill -9 of the leader: both Leases move to the other server, whose controllers act alone', async () => {
  const transitions = async () => JSON.parse((await b!.kubectl(['-n', 'kube-system', 'get', 'lease', 'kube-controller-manager', '-o', 'json'])).stdout).spec.leaseTransitions as number;
  const t0 = await transitions();
  process.kill(a!.pid, 'SIGKILL');
  await until('B leads', async () => Object.values(await holders(b!)).every((p) => p === b!.pid));
  assert.equal(await transitions(), t0 + 1);
  assert.deepEqual(await createdPods(b!, 'after'), { pods: 3, created: 3 });
});
