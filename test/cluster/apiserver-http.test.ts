// The API server at the HTTP level, started in-process: authentication,
// discovery, OpenAPI, Tables, paging, dry-run, subresources, finalizers,
// watch streams (including 410 Gone after compaction) and Service allocation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { startClusterServer, type ClusterServer } from '../../src/apiserver/cluster-server.js';
import { suffix } from './test-server.js';

let srv: ClusterServer;
let dir: string;
let ca: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tug-apiserver-http-'));
  const store = process.env.TUG_TEST_STORE === 'etcd' ? { kind: 'etcd' as const, endpoints: (process.env.TUG_TEST_ETCD_ENDPOINTS ?? 'http://127.0.0.1:2379').split(','), prefix: `/tug-test-${suffix()}` } : { kind: 'sqlite' as const };
  srv = await startClusterServer({ dataDir: dir, port: 0, store });
  ca = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8');
});
after(async () => {
  await srv?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Resp {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): any;
}

function call(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string>; token?: string | null } = {}): Promise<Resp> {
  return new Promise((res, rej) => {
    const u = new URL(path, srv.url);
    const token = opts.token === undefined ? srv.adminToken : opts.token;
    const headers: Record<string, string> = { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(opts.body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...(opts.headers ?? {}) };
    const req = request({ method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, ca, headers }, (r) => {
      let body = '';
      r.on('data', (b: Buffer) => (body += b.toString()));
      r.on('end', () => res({ status: r.statusCode ?? 0, headers: r.headers, body, json: () => JSON.parse(body) }));
    });
    req.on('error', rej);
    req.end(opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
  });
}

/** Reads watch events until `until` returns true for the list so far (or the stream ends). */
function watch(path: string, until: (events: any[]) => boolean): { events: Promise<any[]>; ready: Promise<void> } {
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const events = new Promise<any[]>((res, rej) => {
    const u = new URL(path, srv.url);
    const req = request({ method: 'GET', hostname: u.hostname, port: u.port, path: u.pathname + u.search, ca, headers: { Authorization: `Bearer ${srv.adminToken}` } }, (r) => {
      ready();
      const got: any[] = [];
      let buf = '';
      r.on('data', (b: Buffer) => {
        buf += b.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          got.push(JSON.parse(buf.slice(0, i)));
          buf = buf.slice(i + 1);
          if (until(got)) {
            req.destroy();
            res(got);
            return;
          }
        }
      });
      r.on('end', () => res(got));
    });
    req.on('error', (e) => (e.message.includes('socket hang up') ? undefined : rej(e)));
    req.end();
  });
  return { events, ready: readyP };
}

async function newNamespace(): Promise<string> {
  const ns = `t-${suffix()}`;
  const r = await call('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
  assert.equal(r.status, 201, r.body);
  return ns;
}

test('anonymous requests get 401 except health and version; bearer tokens authenticate', async () => {
  assert.equal((await call('GET', '/api/v1/namespaces', { token: null })).status, 401);
  assert.equal((await call('GET', '/api/v1/namespaces', { token: 'wrong' })).status, 401);
  const h = await call('GET', '/healthz', { token: null });
  assert.equal(h.status, 200);
  assert.equal(h.body, 'ok');
  assert.equal((await call('GET', '/readyz', { token: null })).status, 200);
  assert.equal((await call('GET', '/livez', { token: null })).status, 200);
  const v = (await call('GET', '/version')).json();
  assert.equal(v.major, '1');
  const ns = (await call('GET', '/api/v1/namespaces')).json();
  assert.deepEqual(ns.items.map((n: any) => n.metadata.name).sort(), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
});

test('aggregated discovery when asked, legacy discovery otherwise', async () => {
  const agg = await call('GET', '/apis', { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' } });
  assert.match(String(agg.headers['content-type']), /as=APIGroupDiscoveryList/);
  const apps = agg.json().items.find((g: any) => g.metadata.name === 'apps');
  const deploy = apps.versions[0].resources.find((r: any) => r.resource === 'deployments');
  assert.deepEqual(deploy.shortNames, ['deploy']);
  assert.equal(deploy.scope, 'Namespaced');
  assert.deepEqual(deploy.subresources.map((s: any) => s.subresource).sort(), ['scale', 'status']);
  const core = (await call('GET', '/api', { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' } })).json();
  assert.ok(core.items[0].versions[0].resources.some((r: any) => r.resource === 'pods' && r.categories?.includes('all')));
  const legacy = (await call('GET', '/apis')).json();
  assert.equal(legacy.kind, 'APIGroupList');
  const list = (await call('GET', '/apis/batch/v1')).json();
  assert.ok(list.resources.some((r: any) => r.name === 'cronjobs' && r.shortNames?.includes('cj')));
});

test('OpenAPI v2 and v3 come from the same schemas, with merge keys and fieldValidation support', async () => {
  const v2 = (await call('GET', '/openapi/v2')).json();
  const containers = v2.definitions['io.k8s.api.core.v1.PodSpec'].properties.containers;
  assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
  assert.deepEqual(v2.definitions['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind'], [{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
  const root = (await call('GET', '/openapi/v3')).json();
  const url = root.paths['apis/apps/v1'].serverRelativeURL;
  const v3 = (await call('GET', url)).json();
  const patch = v3.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
  assert.ok(patch.parameters.some((p: any) => p.name === 'fieldValidation'));
  assert.equal(v3.components.schemas['io.k8s.api.apps.v1.DeploymentSpec'].properties.template.$ref, '#/components/schemas/io.k8s.api.core.v1.PodTemplateSpec');
});

test('Table responses, paging with limit/continue, dry-run and generateName', async () => {
  const ns = await newNamespace();
  for (let i = 0; i < 5; i++) {
    const r = await call('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: { metadata: { generateName: 'cm-', labels: { i: String(i) } }, data: { n: String(i) } } });
    assert.equal(r.status, 201);
    assert.match(r.json().metadata.name, /^cm-[a-z0-9]{5}$/);
  }
  const dry = await call('POST', `/api/v1/namespaces/${ns}/configmaps?dryRun=All`, { body: { metadata: { name: 'dry' } } });
  assert.equal(dry.status, 201);
  assert.equal((await call('GET', `/api/v1/namespaces/${ns}/configmaps/dry`)).status, 404);
  const names: string[] = [];
  let cont = '';
  let pages = 0;
  do {
    const page = (await call('GET', `/api/v1/namespaces/${ns}/configmaps?limit=2${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`)).json();
    names.push(...page.items.map((c: any) => c.metadata.name));
    cont = page.metadata.continue ?? '';
    pages++;
  } while (cont);
  assert.equal(pages, 3);
  assert.equal(new Set(names).size, 5);
  const table = (await call('GET', `/api/v1/namespaces/${ns}/configmaps?labelSelector=i%20in%20(1,2)`, { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } })).json();
  assert.equal(table.kind, 'Table');
  assert.deepEqual(table.columnDefinitions.map((c: any) => c.name), ['Name', 'Data', 'Age']);
  assert.equal(table.rows.length, 2);
  assert.equal(table.rows[0].cells[1], 1);
  assert.equal(table.rows[0].object.kind, 'PartialObjectMetadata');
});

test('status subresource: the main resource ignores status, /status changes only status', async () => {
  const ns = await newNamespace();
  const dep = { metadata: { name: 'd' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } };
  const created = (await call('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, { body: dep })).json();
  const withStatus = { ...created, status: { replicas: 7 } };
  const upd = (await call('PUT', `/apis/apps/v1/namespaces/${ns}/deployments/d`, { body: withStatus })).json();
  assert.equal(upd.status.replicas, undefined);
  const st = await call('PUT', `/apis/apps/v1/namespaces/${ns}/deployments/d/status`, { body: { ...upd, spec: { ...upd.spec, replicas: 9 }, status: { replicas: 7 } } });
  assert.equal(st.status, 200, st.body);
  assert.equal(st.json().status.replicas, 7);
  assert.equal(st.json().spec.replicas, 1, 'spec changes through /status are ignored');
  assert.equal(st.json().metadata.generation, 1);
  const stale = await call('PUT', `/apis/apps/v1/namespaces/${ns}/deployments/d`, { body: created });
  assert.equal(stale.status, 409);
  assert.equal(stale.json().reason, 'Conflict');
});

test('pods/binding sets spec.nodeName once, records the binder in managedFields, and a second binding is a 409', async () => {
  const ns = await newNamespace();
  const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
  assert.equal((await call('POST', `/api/v1/namespaces/${ns}/pods`, { body: pod })).status, 201);
  const binding = (node: string) => ({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { apiVersion: 'v1', kind: 'Node', name: node } });
  const first = await call('POST', `/api/v1/namespaces/${ns}/pods/p/binding?fieldManager=my-scheduler`, { body: binding('node-1') });
  assert.equal(first.status, 201, first.body);
  assert.equal(first.json().status, 'Success');
  const bound = (await call('GET', `/api/v1/namespaces/${ns}/pods/p`)).json();
  assert.equal(bound.spec.nodeName, 'node-1');
  const entry = bound.metadata.managedFields.find((e: any) => e.manager === 'my-scheduler');
  assert.deepEqual(entry?.fieldsV1, { 'f:spec': { 'f:nodeName': {} } });
  const again = await call('POST', `/api/v1/namespaces/${ns}/pods/p/binding`, { body: binding('node-2') });
  assert.equal(again.status, 409);
  assert.match(again.json().message, /already assigned to node "node-1"/);
  assert.equal((await call('GET', `/api/v1/namespaces/${ns}/pods/p`)).json().spec.nodeName, 'node-1');
  assert.equal((await call('POST', `/api/v1/namespaces/${ns}/pods/missing/binding`, { body: binding('node-1') })).status, 404);
});

test('finalizers hold an object in deletion until they are removed', async () => {
  const ns = await newNamespace();
  await call('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: { metadata: { name: 'held', finalizers: ['example.com/hold'] } } });
  const del = await call('DELETE', `/api/v1/namespaces/${ns}/configmaps/held`);
  assert.equal(del.status, 202);
  const cur = (await call('GET', `/api/v1/namespaces/${ns}/configmaps/held`)).json();
  assert.ok(cur.metadata.deletionTimestamp);
  const add = await call('PATCH', `/api/v1/namespaces/${ns}/configmaps/held`, { body: { metadata: { finalizers: ['example.com/hold', 'new'] } }, headers: { 'Content-Type': 'application/merge-patch+json' } });
  assert.deepEqual(add.json().metadata.finalizers, ['example.com/hold'], 'no new finalizers once deleting');
  const rm1 = await call('PATCH', `/api/v1/namespaces/${ns}/configmaps/held`, { body: [{ op: 'remove', path: '/metadata/finalizers' }], headers: { 'Content-Type': 'application/json-patch+json' } });
  assert.equal(rm1.status, 200, rm1.body);
  assert.equal((await call('GET', `/api/v1/namespaces/${ns}/configmaps/held`)).status, 404);
});

test('watch streams ADDED, MODIFIED and DELETED for matching objects', async () => {
  const ns = await newNamespace();
  const start = (await call('GET', `/api/v1/namespaces/${ns}/configmaps`)).json().metadata.resourceVersion;
  const w = watch(`/api/v1/namespaces/${ns}/configmaps?watch=1&resourceVersion=${start}&labelSelector=w%3Dyes`, (ev) => ev.some((e) => e.type === 'DELETED'));
  await w.ready;
  await call('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: { metadata: { name: 'other' } } });
  await call('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: { metadata: { name: 'x', labels: { w: 'yes' } } } });
  await call('PATCH', `/api/v1/namespaces/${ns}/configmaps/x`, { body: { data: { a: '1' } }, headers: { 'Content-Type': 'application/merge-patch+json' } });
  await call('DELETE', `/api/v1/namespaces/${ns}/configmaps/x`);
  const events = (await w.events).filter((e) => e.type !== 'BOOKMARK');
  assert.deepEqual(events.map((e) => `${e.type}:${e.object.metadata.name}`), ['ADDED:x', 'MODIFIED:x', 'DELETED:x']);
  assert.equal(events[1].object.data.a, '1');
});

test('a watch from a compacted resourceVersion ends with a 410 Expired ERROR event', async () => {
  const ns = await newNamespace();
  const first = (await call('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: { metadata: { name: 'a' } } })).json();
  await call('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: { metadata: { name: 'b' } } });
  const rev = await srv.objects.store.currentRevision();
  await srv.objects.store.compact(rev);
  const oldRv = Number(first.metadata.resourceVersion) - 1;
  const w = watch(`/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${oldRv}`, (ev) => ev.some((e) => e.type === 'ERROR'));
  const events = await w.events;
  const err = events.find((e) => e.type === 'ERROR');
  assert.ok(err, JSON.stringify(events));
  assert.equal(err.object.code, 410);
  assert.equal(err.object.reason, 'Expired');
});

test('Services get cluster IPs and node ports without collisions', async () => {
  const ns = await newNamespace();
  const svc = (name: string, extra: Record<string, unknown> = {}) => ({ metadata: { name }, spec: { ports: [{ port: 80 }], ...extra } });
  const a = (await call('POST', `/api/v1/namespaces/${ns}/services`, { body: svc('a', { type: 'NodePort' }) })).json();
  assert.ok(a.spec.clusterIP.startsWith('10.'));
  assert.ok(a.spec.ports[0].nodePort >= 30000);
  const dupIp = await call('POST', `/api/v1/namespaces/${ns}/services`, { body: svc('b', { clusterIP: a.spec.clusterIP }) });
  assert.equal(dupIp.status, 422);
  assert.match(dupIp.json().message, /provided IP is already allocated/);
  const dupPort = await call('POST', `/api/v1/namespaces/${ns}/services`, { body: { metadata: { name: 'c' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: a.spec.ports[0].nodePort }] } } });
  assert.equal(dupPort.status, 422);
  assert.match(dupPort.json().message, /provided port is already allocated/);
  const headless = (await call('POST', `/api/v1/namespaces/${ns}/services`, { body: svc('h', { clusterIP: 'None' }) })).json();
  assert.equal(headless.spec.clusterIP, 'None');
  const replaced = await call('PUT', `/api/v1/namespaces/${ns}/services/a`, { body: { metadata: { name: 'a' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } } });
  assert.equal(replaced.status, 200, replaced.body);
  assert.equal(replaced.json().spec.clusterIP, a.spec.clusterIP, 'an update without clusterIP keeps the allocated one');
  assert.equal(replaced.json().spec.ports[0].nodePort, a.spec.ports[0].nodePort);
});

test('immutable fields: deployment selectors, pod specs (except images) and resourceVersion on create', async () => {
  const ns = await newNamespace();
  const dep = { metadata: { name: 'd' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b', c: 'd' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } };
  assert.equal((await call('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, { body: dep })).status, 201);
  const sel = await call('PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/d`, { body: { spec: { selector: { matchLabels: { c: 'd' } } } }, headers: { 'Content-Type': 'application/merge-patch+json' } });
  assert.equal(sel.status, 422);
  assert.equal(sel.json().details.causes[0].field, 'spec.selector');
  const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } };
  assert.equal((await call('POST', `/api/v1/namespaces/${ns}/pods`, { body: pod })).status, 201);
  const img = await call('PATCH', `/api/v1/namespaces/${ns}/pods/p`, { body: { spec: { containers: [{ name: 'c', image: 'busybox:2' }] } }, headers: { 'Content-Type': 'application/strategic-merge-patch+json' } });
  assert.equal(img.status, 200, img.body);
  const env = await call('PATCH', `/api/v1/namespaces/${ns}/pods/p`, { body: { spec: { containers: [{ name: 'c', env: [{ name: 'A', value: '1' }] }] } }, headers: { 'Content-Type': 'application/strategic-merge-patch+json' } });
  assert.equal(env.status, 422);
  assert.match(env.json().message, /pod updates may not change fields/);
  const withRv = await call('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: { metadata: { name: 'x', resourceVersion: '5' } } });
  assert.equal(withRv.status, 400);
  const coll = await call('DELETE', `/api/v1/namespaces/${ns}/pods`);
  assert.equal(coll.status, 200);
  assert.equal(coll.json().items.length, 1);
  assert.equal((await call('GET', `/api/v1/namespaces/${ns}/pods`)).json().items.length, 0);
});

test('Events expire an hour after they were last seen', async () => {
  const ns = await newNamespace();
  const old = new Date(Date.now() - 2 * 3600 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const fresh = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const ev = (name: string, last: string) => ({ metadata: { name }, involvedObject: { kind: 'Pod', name: 'p', namespace: ns }, reason: 'Test', message: 'm', type: 'Normal', lastTimestamp: last, firstTimestamp: last, count: 1 });
  assert.equal((await call('POST', `/api/v1/namespaces/${ns}/events`, { body: ev('stale', old) })).status, 201);
  assert.equal((await call('POST', `/api/v1/namespaces/${ns}/events`, { body: ev('recent', fresh) })).status, 201);
  assert.ok((await srv.expireEvents()) >= 1);
  const names = (await call('GET', `/api/v1/namespaces/${ns}/events`)).json().items.map((e: any) => e.metadata.name);
  assert.deepEqual(names, ['recent']);
  const byField = (await call('GET', `/api/v1/namespaces/${ns}/events?fieldSelector=involvedObject.name%3Dp,reason%3DTest`)).json();
  assert.equal(byField.items.length, 1);
});

test('metadata-only responses for PartialObjectMetadata(List) clients', async () => {
  const ns = await newNamespace();
  await call('POST', `/api/v1/namespaces/${ns}/configmaps`, { body: { metadata: { name: 'm', labels: { a: 'b' } }, data: { big: 'x'.repeat(1000) } } });
  const list = await call('GET', `/api/v1/namespaces/${ns}/configmaps`, { headers: { Accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json' } });
  assert.match(String(list.headers['content-type']), /as=PartialObjectMetadataList/);
  const body = list.json();
  assert.equal(body.kind, 'PartialObjectMetadataList');
  assert.deepEqual(body.items.map((i: any) => [i.kind, i.metadata.name, i.metadata.labels.a, i.data]), [['PartialObjectMetadata', 'm', 'b', undefined]]);
  const one = (await call('GET', `/api/v1/namespaces/${ns}/configmaps/m`, { headers: { Accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1' } })).json();
  assert.equal(one.kind, 'PartialObjectMetadata');
  assert.equal(one.data, undefined);
});
