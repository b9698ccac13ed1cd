// HA `kubernetes` Endpoints: two `tug server`s on one etcd each keep an
// identity Lease in kube-system, and the default/kubernetes Endpoints and
// EndpointSlices list every server whose Lease is fresh (one machine: same
// address, one subset and one slice per port). A server killed with -9 drops
// out once its Lease expires (a short duration set by flag; the test polls
// with a generous bound rather than timing anything). A lone SQLite server
// restarted on another port drops its earlier Lease at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdCluster } from '../cluster-storage/etcd-harness.js';
import { startTestServer, suffix, type TestServer } from '../cluster/test-server.js';

let etcd: EtcdCluster | undefined;
let a: TestServer | undefined;
let b: TestServer | undefined;

before(async () => {
  etcd = await startEtcd(1);
  const store = ['--store', 'etcd', '--etcd-endpoints', etcd.endpoints.join(','), '--etcd-prefix', `/tug-ha-ep-${suffix()}`, '--identity-lease-duration-seconds', '3'];
  a = await startTestServer({ store });
  b = await startTestServer({ store });
});

after(async () => {
  await a?.stop();
  await b?.stop();
  await etcd?.stop();
});

const portOf = (s: TestServer): number => Number(new URL(s.url).port);

interface Advertised {
  endpoints: Array<{ ip: string; port: number }>;
  slices: Array<{ ips: string[]; ports: number[] }>;
  leases: Array<{ name: string; labels: Record<string, string> }>;
}

async function advertised(via: TestServer): Promise<Advertised> {
  const ep = JSON.parse((await via.kubectl(['get', 'endpoints', 'kubernetes', '-o', 'json'])).stdout);
  const endpoints = (ep.subsets ?? []).flatMap((s: any) => s.addresses.flatMap((ad: any) => s.ports.map((p: any) => ({ ip: ad.ip, port: p.port }))));
  const slices = JSON.parse((await via.kubectl(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=kubernetes', '-o', 'json'])).stdout).items.map((s: any) => ({
    ips: s.endpoints.flatMap((e: any) => e.addresses),
    ports: s.ports.map((p: any) => p.port),
  }));
  const leases = JSON.parse((await via.kubectl(['-n', 'kube-system', 'get', 'leases', '-l', 'apiserver.kubernetes.io/identity=kube-apiserver', '-o', 'json'])).stdout).items.map((l: any) => ({ name: l.metadata.name, labels: l.metadata.labels }));
  const byPort = (x: { port: number }, y: { port: number }) => x.port - y.port;
  return { endpoints: endpoints.sort(byPort), slices: slices.sort((x: any, y: any) => x.ports[0] - y.ports[0]), leases };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, tries = 240): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`gave up waiting for ${what}`);
}

test('the kubernetes Endpoints list both servers, each with its own identity Lease', async () => {
  const ports = [portOf(a!), portOf(b!)].sort((x, y) => x - y);
  const want = ports.map((port) => ({ ip: '127.0.0.1', port }));
  // B lists A as soon as it starts (A's Lease is fresh); read through A too: one store.
  for (const via of [a!, b!]) {
    const got = await until('both servers in the Endpoints', async () => {
      const adv = await advertised(via);
      return JSON.stringify(adv.endpoints) === JSON.stringify(want) ? adv : undefined;
    });
    assert.deepEqual(got.slices, ports.map((port) => ({ ips: ['127.0.0.1'], ports: [port] })));
    assert.equal(got.leases.length, 2);
    for (const l of got.leases) assert.equal(l.labels['apiserver.kubernetes.io/identity'], 'kube-apiserver');
  }
});

test('a server killed with -9 leaves the Endpoints once its Lease expires; its Lease is collected', async () => {
  process.kill(a!.pid, 'SIGKILL');
  await a!.stop();
  a = undefined;
  const want = [{ ip: '127.0.0.1', port: portOf(b!) }];
  const got = await until('only the live server in the Endpoints', async () => {
    const adv = await advertised(b!);
    return JSON.stringify(adv.endpoints) === JSON.stringify(want) && adv.leases.length === 1 ? adv : undefined;
  });
  assert.deepEqual(got.slices, [{ ips: ['127.0.0.1'], ports: [portOf(b!)] }]);
});

test('a lone SQLite server killed with -9 and restarted on another port advertises only its new port at once', async () => {
  let s: TestServer | undefined = await startTestServer({ store: ['--store', 'sqlite'] });
  try {
    const dataDir = s.dataDir;
    const oldPort = portOf(s);
    assert.deepEqual((await advertised(s)).endpoints, [{ ip: '127.0.0.1', port: oldPort }]);
    process.kill(s.pid, 'SIGKILL');
    await s.stop({ keepData: true });
    s = await startTestServer({ dataDir, store: ['--store', 'sqlite'] });
    // No polling: the first reconcile runs before the server reports itself started.
    const adv = await advertised(s);
    assert.deepEqual(adv.endpoints, [{ ip: '127.0.0.1', port: portOf(s) }]);
    assert.deepEqual(adv.slices, [{ ips: ['127.0.0.1'], ports: [portOf(s)] }]);
    assert.equal(adv.leases.length, 1);
  } finally {
    await s?.stop();
  }
});
