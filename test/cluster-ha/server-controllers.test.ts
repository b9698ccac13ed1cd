// HA: the API server's own controllers follow the shared store, not their own
// process's writes. Two `tug server` processes on one etcd: a CRD created
// through A is served by B without a restart (B's CRD informer saw it), a
// namespace created through A gets its default ServiceAccount, and B's
// quota status follows objects written through A.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type EtcdCluster } from '../cluster-storage/etcd-harness.js';
import { startTestServer, suffix, type TestServer } from '../cluster/test-server.js';

let etcd: EtcdCluster | undefined;
let a: TestServer | undefined;
let b: TestServer | undefined;

before(async () => {
  etcd = await startEtcd(1);
  const store = ['--store', 'etcd', '--etcd-endpoints', etcd.endpoints.join(','), '--etcd-prefix', `/tug-ha-ctrl-${suffix()}`];
  a = await startTestServer({ store });
  b = await startTestServer({ store });
});

after(async () => {
  await a?.stop();
  await b?.stop();
  await etcd?.stop();
});

/** Asks until `probe` answers (each try is a real request; the cap only bounds a broken server). */
async function eventually<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never happened: ${what}`);
}

test('a CRD created through one server is served by the other, and deleting it through the other stops both serving it', async () => {
  const group = `ha${suffix()}.example.com`;
  const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gizmos.${group}}
spec:
  group: ${group}
  scope: Namespaced
  names: {plural: gizmos, singular: gizmo, kind: Gizmo}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`;
  await a!.kubectl(['apply', '-f', '-'], { input: crd });
  await a!.kubectl(['wait', '--for=condition=Established', `crd/gizmos.${group}`, '--timeout=30s']);
  const path = `/apis/${group}/v1/namespaces/default/gizmos`;
  const created = await eventually(async () => {
    const r = await b!.http('POST', path, { body: JSON.stringify({ apiVersion: `${group}/v1`, kind: 'Gizmo', metadata: { name: 'g1' } }), headers: { 'content-type': 'application/json' } });
    return r.status === 404 ? undefined : r;
  }, 'server B serves the CRD created through A');
  assert.equal(created.status, 201, created.body);
  assert.equal(JSON.parse((await a!.http('GET', `${path}/g1`)).body).metadata.name, 'g1');
  await b!.kubectl(['delete', 'crd', `gizmos.${group}`, '--timeout=60s']);
  for (const s of [a!, b!]) await eventually(async () => ((await s.http('GET', path)).status === 404 ? true : undefined), 'the deleted CRD is no longer served');
});

test('a namespace created through one server gets its default ServiceAccount; quota status on the other follows writes through the first', async () => {
  const ns = `ha-${suffix()}`;
  await a!.kubectl(['create', 'namespace', ns]);
  await b!.kubectl(['-n', ns, 'wait', '--for=create', 'serviceaccount/default', '--timeout=30s']);
  await b!.kubectl(['-n', ns, 'create', 'quota', 'q', '--hard=configmaps=5']);
  await a!.kubectl(['-n', ns, 'create', 'configmap', 'one', '--from-literal=k=v']);
  await a!.kubectl(['-n', ns, 'create', 'configmap', 'two', '--from-literal=k=v']);
  // kube-root-ca.crt is published by the controllers, which these servers (--no-agent) still run: count what is there.
  const count = async () => JSON.parse((await b!.kubectl(['-n', ns, 'get', 'cm', '-o', 'json'])).stdout).items.length as number;
  await eventually(async () => {
    const want = String(await count());
    const used = (await b!.kubectl(['-n', ns, 'get', 'quota', 'q', '-o', 'jsonpath={.status.used.configmaps}'])).stdout;
    return used === want ? used : undefined;
  }, 'quota status counts the configmaps');
});
