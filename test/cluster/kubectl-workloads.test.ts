// kubectl against a real `tug server`: apply (client- and server-side), get in
// every output kind, describe, edit, patch (json/merge/strategic), label,
// annotate, scale, replace with a stale resourceVersion, delete.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startTestServer, suffix, type TestServer } from './test-server.js';

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await srv?.stop();
});

function manifest(ns: string, image = 'nginx:1.25', replicas = 2): string {
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: ${image}
        ports:
        - containerPort: 80
        env:
        - {name: A, value: "1"}
        - {name: B, value: "2"}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${ns}
spec:
  selector: {app: web}
  ports:
  - {port: 80, targetPort: 80}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: ${ns}
data:
  key: a
`;
}

async function applyManifest(ns: string, extra: string[] = [], text = manifest(ns)): Promise<string> {
  const file = join(srv.dataDir, `m-${suffix()}.yaml`);
  await writeFile(file, text);
  const r = await srv.kubectl(['apply', '-f', file, ...extra]);
  return r.stdout;
}

test('apply creates a deployment, service and configmap with Kubernetes defaults; re-apply is unchanged', async () => {
  const ns = `apply-${suffix()}`;
  const out = await applyManifest(ns);
  assert.match(out, /deployment.apps\/web created/);
  assert.match(out, /service\/web created/);
  assert.match(out, /configmap\/cfg created/);
  const d = JSON.parse((await srv.kubectl(['-n', ns, 'get', 'deploy', 'web', '-o', 'json'])).stdout);
  assert.equal(d.spec.strategy.rollingUpdate.maxSurge, '25%');
  assert.equal(d.spec.revisionHistoryLimit, 10);
  assert.equal(d.spec.progressDeadlineSeconds, 600);
  assert.equal(d.spec.template.spec.restartPolicy, 'Always');
  assert.equal(d.spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
  assert.equal(d.metadata.generation, 1);
  assert.ok(d.metadata.uid);
  const svc = JSON.parse((await srv.kubectl(['-n', ns, 'get', 'svc', 'web', '-o', 'json'])).stdout);
  assert.match(svc.spec.clusterIP, /^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);
  assert.equal(svc.spec.ports[0].protocol, 'TCP');
  const again = await applyManifest(ns);
  assert.match(again, /deployment.apps\/web unchanged/);
  assert.match(again, /configmap\/cfg unchanged/);
  // (The ConfigMap, because controllers may write the Deployment's status meanwhile.)
  const cmRv = (await srv.kubectl(['-n', ns, 'get', 'cm', 'cfg', '-o', 'jsonpath={.metadata.resourceVersion}'])).stdout;
  await applyManifest(ns);
  assert.equal((await srv.kubectl(['-n', ns, 'get', 'cm', 'cfg', '-o', 'jsonpath={.metadata.resourceVersion}'])).stdout, cmRv, 'an unchanged apply must not write');
});

test('get prints the columns kubectl users expect, -o wide, yaml and jsonpath', async () => {
  const ns = `get-${suffix()}`;
  await applyManifest(ns);
  const table = (await srv.kubectl(['-n', ns, 'get', 'deploy'])).stdout;
  assert.match(table, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/);
  // UP-TO-DATE depends on whether the deployment controller has run yet.
  assert.match(table, /^web\s+0\/2\s+\d+\s+0\s+\d+s/m);
  const wide = (await srv.kubectl(['-n', ns, 'get', 'deploy', '-o', 'wide'])).stdout;
  assert.match(wide, /CONTAINERS\s+IMAGES\s+SELECTOR/);
  assert.match(wide, /nginx\s+nginx:1.25\s+app=web/);
  const svc = (await srv.kubectl(['-n', ns, 'get', 'svc'])).stdout;
  assert.match(svc, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE/);
  assert.match(svc, /web\s+ClusterIP\s+10\.\S+\s+<none>\s+80\/TCP/);
  const yaml = (await srv.kubectl(['-n', ns, 'get', 'cm', 'cfg', '-o', 'yaml'])).stdout;
  assert.match(yaml, /^kind: ConfigMap$/m);
  assert.match(yaml, /^ {2}key: a$/m);
  const jp = (await srv.kubectl(['-n', ns, 'get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].env[*].name}'])).stdout;
  assert.equal(jp, 'A B');
  const all = (await srv.kubectl(['-n', ns, 'get', 'all'])).stdout;
  assert.match(all, /deployment.apps\/web/);
  assert.match(all, /service\/web/);
  const byLabel = (await srv.kubectl(['-n', ns, 'get', 'deploy', '-l', 'app in (web,other)', '-o', 'name'])).stdout.trim();
  assert.equal(byLabel, 'deployment.apps/web');
  const none = await srv.kubectl(['-n', ns, 'get', 'deploy', '-l', 'app!=web', '-o', 'name']);
  assert.equal(none.stdout.trim(), '');
  const field = (await srv.kubectl(['-n', ns, 'get', 'cm', '--field-selector', 'metadata.name=cfg', '-o', 'name'])).stdout.trim();
  assert.equal(field, 'configmap/cfg');
});

test('patch with json, merge and strategic types; strategic merges containers and env by name', async () => {
  const ns = `patch-${suffix()}`;
  await applyManifest(ns);
  await srv.kubectl(['-n', ns, 'patch', 'deploy', 'web', '--type', 'merge', '-p', '{"spec":{"replicas":3}}']);
  await srv.kubectl(['-n', ns, 'patch', 'deploy', 'web', '--type', 'json', '-p', '[{"op":"add","path":"/metadata/labels/tier","value":"fe"}]']);
  await srv.kubectl(['-n', ns, 'patch', 'deploy', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.26","env":[{"name":"B","value":"3"}]}]}}}}']);
  const d = JSON.parse((await srv.kubectl(['-n', ns, 'get', 'deploy', 'web', '-o', 'json'])).stdout);
  assert.equal(d.spec.replicas, 3);
  assert.equal(d.metadata.labels.tier, 'fe');
  assert.equal(d.spec.template.spec.containers.length, 1);
  assert.equal(d.spec.template.spec.containers[0].image, 'nginx:1.26');
  assert.deepEqual(d.spec.template.spec.containers[0].env, [{ name: 'A', value: '1' }, { name: 'B', value: '3' }]);
  assert.equal(d.spec.template.spec.containers[0].ports[0].containerPort, 80, 'fields not in the patch stay');
  assert.equal(d.metadata.generation, 3, 'two spec changes bump generation twice; the label patch does not');
  const bad = await srv.kubectl(['-n', ns, 'patch', 'deploy', 'web', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/nope/x","value":1}]'], { allowFailure: true });
  assert.notEqual(bad.code, 0);
});

test('label, annotate, scale and edit', async () => {
  const ns = `edit-${suffix()}`;
  await applyManifest(ns);
  await srv.kubectl(['-n', ns, 'label', 'deploy', 'web', 'team=core']);
  await srv.kubectl(['-n', ns, 'annotate', 'deploy', 'web', 'note=hello']);
  const scaled = await srv.kubectl(['-n', ns, 'scale', 'deploy', 'web', '--replicas=5']);
  assert.match(scaled.stdout, /deployment.apps\/web scaled/);
  const d = JSON.parse((await srv.kubectl(['-n', ns, 'get', 'deploy', 'web', '-o', 'json'])).stdout);
  assert.equal(d.metadata.labels.team, 'core');
  assert.equal(d.metadata.annotations.note, 'hello');
  assert.equal(d.spec.replicas, 5);
  const scale = JSON.parse((await srv.http('GET', `/apis/apps/v1/namespaces/${ns}/deployments/web/scale`)).body);
  assert.equal(scale.kind, 'Scale');
  assert.equal(scale.spec.replicas, 5);
  assert.equal(scale.status.selector, 'app=web');
  const edited = await srv.kubectl(['-n', ns, 'edit', 'cm', 'cfg'], { env: { KUBE_EDITOR: 'sed -i s/key:\\ a/key:\\ b/' } });
  assert.match(edited.stdout, /configmap\/cfg edited/);
  const v = (await srv.kubectl(['-n', ns, 'get', 'cm', 'cfg', '-o', 'jsonpath={.data.key}'])).stdout;
  assert.equal(v, 'b');
  const desc = (await srv.kubectl(['-n', ns, 'describe', 'deploy', 'web'])).stdout;
  assert.match(desc, /Replicas:\s+5 desired/);
  assert.match(desc, /RollingUpdateStrategy:\s+25% max unavailable, 25% max surge/);
});

test('replace with a stale resourceVersion is a 409 Conflict', async () => {
  const ns = `conflict-${suffix()}`;
  await applyManifest(ns);
  const file = join(srv.dataDir, `cm-${suffix()}.yaml`);
  await writeFile(file, (await srv.kubectl(['-n', ns, 'get', 'cm', 'cfg', '-o', 'yaml'])).stdout);
  await srv.kubectl(['-n', ns, 'annotate', 'cm', 'cfg', 'touched=yes']);
  const r = await srv.kubectl(['replace', '-f', file], { allowFailure: true });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Conflict.*Operation cannot be fulfilled on configmaps "cfg": the object has been modified/);
});

test('invalid objects get 422 with the field path; unknown fields are rejected by strict validation', async () => {
  const ns = `invalid-${suffix()}`;
  await srv.kubectl(['create', 'namespace', ns], { allowFailure: true });
  await applyManifest(ns);
  const pod = `apiVersion: v1\nkind: Pod\nmetadata: {name: p1, namespace: ${ns}}\nspec:\n  containers:\n  - name: c\n`;
  const r = await srv.kubectl(['create', '-f', '-'], { input: pod, allowFailure: true });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /The Pod "p1" is invalid: spec.containers\[0\].image: Required value/);
  const raw = await srv.http('POST', `/api/v1/namespaces/${ns}/pods`, { body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'Bad_Name' }, spec: { containers: [{ name: 'c', image: 'x' }] } }), headers: { 'Content-Type': 'application/json' } });
  assert.equal(raw.status, 422);
  const status = JSON.parse(raw.body);
  assert.equal(status.reason, 'Invalid');
  assert.equal(status.details.causes[0].field, 'metadata.name');
  const unknown = manifest(ns).replace('  replicas: 2\n', '  replicas: 2\n  foo: bar\n');
  const file = join(srv.dataDir, `bad-${suffix()}.yaml`);
  await writeFile(file, unknown);
  const u = await srv.kubectl(['apply', '-f', file], { allowFailure: true });
  assert.notEqual(u.code, 0);
  assert.match(u.stderr, /unknown field "spec.foo"/);
});

test('server-side apply: field ownership, conflicts with other managers, --force-conflicts', async () => {
  const ns = `ssa-${suffix()}`;
  const out = await applyManifest(ns, ['--server-side']);
  assert.match(out, /deployment.apps\/web serverside-applied/);
  const d = JSON.parse((await srv.kubectl(['-n', ns, 'get', 'deploy', 'web', '-o', 'json', '--show-managed-fields'])).stdout);
  const mine = d.metadata.managedFields.find((m: any) => m.manager === 'kubectl' && m.operation === 'Apply');
  assert.ok(mine, 'kubectl owns the applied fields');
  assert.ok(mine.fieldsV1['f:spec']['f:replicas']);
  await srv.kubectl(['-n', ns, 'scale', 'deploy', 'web', '--replicas=4']);
  const c = await srv.kubectl(['apply', '--server-side', '-f', '-'], { input: manifest(ns), allowFailure: true });
  assert.notEqual(c.code, 0);
  assert.match(c.stderr, /Apply failed with 1 conflict: conflict with "kubectl[^"]*" .*\.spec\.replicas/);
  await srv.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input: manifest(ns) });
  assert.equal((await srv.kubectl(['-n', ns, 'get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'])).stdout, '2');
  // Dropping a field from the applied config removes it.
  await srv.kubectl(['apply', '--server-side', '-f', '-'], { input: manifest(ns).replace('        - {name: B, value: "2"}\n', '') });
  const env = (await srv.kubectl(['-n', ns, 'get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].env[*].name}'])).stdout;
  assert.equal(env, 'A');
});

test('delete removes objects; background cascade deletes dependents, orphan keeps them', async () => {
  const ns = `del-${suffix()}`;
  await applyManifest(ns);
  const uid = (await srv.kubectl(['-n', ns, 'get', 'deploy', 'web', '-o', 'jsonpath={.metadata.uid}'])).stdout;
  const child = (name: string, ownerUid: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n  ownerReferences:\n  - {apiVersion: apps/v1, kind: Deployment, name: web, uid: ${ownerUid}, controller: true, blockOwnerDeletion: true}\n`;
  await srv.kubectl(['create', '-f', '-'], { input: child('owned', uid) });
  const del = await srv.kubectl(['-n', ns, 'delete', 'deploy', 'web']);
  assert.match(del.stdout, /deployment.apps "web" deleted/);
  await srv.kubectl(['-n', ns, 'wait', '--for=delete', 'cm/owned', '--timeout=30s']);
  const left = await srv.kubectl(['-n', ns, 'get', 'cm', 'owned'], { allowFailure: true });
  assert.match(left.stderr, /NotFound/);

  await applyManifest(ns);
  const uid2 = (await srv.kubectl(['-n', ns, 'get', 'deploy', 'web', '-o', 'jsonpath={.metadata.uid}'])).stdout;
  await srv.kubectl(['create', '-f', '-'], { input: child('kept', uid2) });
  await srv.kubectl(['-n', ns, 'delete', 'deploy', 'web', '--cascade=orphan']);
  const kept = JSON.parse((await srv.kubectl(['-n', ns, 'get', 'cm', 'kept', '-o', 'json'])).stdout);
  assert.equal(kept.metadata.ownerReferences, undefined, 'orphaned dependents lose their owner reference');
  const gone = await srv.kubectl(['-n', ns, 'get', 'deploy', 'web'], { allowFailure: true });
  assert.match(gone.stderr, /NotFound/);
});

test('deleting a namespace removes everything in it', async () => {
  const ns = `nsdel-${suffix()}`;
  await applyManifest(ns);
  const r = await srv.kubectl(['delete', 'namespace', ns, '--timeout=60s']);
  assert.match(r.stdout, new RegExp(`namespace "${ns}" deleted`));
  const gone = await srv.kubectl(['get', 'namespace', ns], { allowFailure: true });
  assert.match(gone.stderr, /NotFound/);
  const list = JSON.parse((await srv.http('GET', `/api/v1/namespaces/${ns}/configmaps`)).body);
  assert.deepEqual(list.items, []);
  const create = await srv.kubectl(['-n', ns, 'create', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late}\n', allowFailure: true });
  assert.match(create.stderr, /namespaces "[^"]+" not found/);
});

test('get -w streams a change made while watching', async () => {
  const ns = `watch-${suffix()}`;
  await applyManifest(ns);
  // kubectl lists, prints, then watches; we write only after the list is printed, and stop once the new row shows.
  const child = spawn('kubectl', ['-n', ns, 'get', 'cm', '-w', '--output-watch-events', '--request-timeout=60s', '-v=6'], { env: srv.kubectlEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let log = '';
  child.stderr.on('data', (b: Buffer) => (log += b.toString()));
  // One reader appends to `out`; waiters re-check it on each chunk (a listener per waiter would append twice).
  const waiters = new Set<() => void>();
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    for (const w of [...waiters]) w();
  });
  const seen = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!re.test(out)) return;
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      child.once('exit', () => (re.test(out) ? resolve() : reject(new Error(`kubectl exited before ${re}: ${out}`))));
      check();
    });
  try {
    await seen(/^ADDED\s+cfg\s+1\s+/m);
    // (A controller may add kube-root-ca.crt to the namespace too; only our object matters.)
    await srv.kubectl(['-n', ns, 'create', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: during-watch}\ndata: {x: "1"}\n' });
    await seen(/^ADDED\s+during-watch\s+1\s+/m);
  } finally {
    child.kill('SIGTERM');
  }
  assert.match(out, /^EVENT\s+NAME\s+DATA\s+AGE$/m);
  assert.equal(out.match(/^ADDED\s+during-watch/gm)?.length, 1, out + log);
});

test('foreground cascade keeps the owner until its blocking dependents are gone', async () => {
  const ns = `fg-${suffix()}`;
  await applyManifest(ns);
  const uid = (await srv.kubectl(['-n', ns, 'get', 'deploy', 'web', '-o', 'jsonpath={.metadata.uid}'])).stdout;
  const child = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: slow-child\n  namespace: ${ns}\n  finalizers: [example.com/slow]\n  ownerReferences:\n  - {apiVersion: apps/v1, kind: Deployment, name: web, uid: ${uid}, blockOwnerDeletion: true}\n`;
  await srv.kubectl(['create', '-f', '-'], { input: child });
  await srv.kubectl(['-n', ns, 'delete', 'deploy', 'web', '--cascade=foreground', '--wait=false']);
  // The dependent is being deleted (held by its own finalizer), so the owner must still exist.
  await srv.kubectl(['-n', ns, 'wait', '--for=jsonpath={.metadata.deletionTimestamp}', 'cm/slow-child', '--timeout=30s']);
  const owner = JSON.parse((await srv.kubectl(['-n', ns, 'get', 'deploy', 'web', '-o', 'json'])).stdout);
  assert.deepEqual(owner.metadata.finalizers, ['foregroundDeletion']);
  assert.ok(owner.metadata.deletionTimestamp);
  await srv.kubectl(['-n', ns, 'patch', 'cm', 'slow-child', '--type', 'json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
  await srv.kubectl(['-n', ns, 'wait', '--for=delete', 'deploy/web', '--timeout=30s']);
  assert.match((await srv.kubectl(['-n', ns, 'get', 'deploy', 'web'], { allowFailure: true })).stderr, /NotFound/);
});

test('a pod bound to a node that does not exist is deleted at once; unknown nodes never hold deletion', async () => {
  const ns = `pods-${suffix()}`;
  await srv.kubectl(['create', 'namespace', ns]);
  await srv.kubectl(['-n', ns, 'create', '-f', '-'], { input: 'apiVersion: v1\nkind: Pod\nmetadata: {name: bound}\nspec:\n  nodeName: no-such-node\n  containers: [{name: c, image: busybox}]\n' });
  const wide = (await srv.kubectl(['-n', ns, 'get', 'pods', '-o', 'wide'])).stdout;
  assert.match(wide, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/m);
  assert.match(wide, /^bound\s+0\/1\s+Pending\s+0\s+\S+\s+<none>\s+no-such-node\s+<none>\s+<none>$/m);
  const r = await srv.kubectl(['-n', ns, 'delete', 'pod', 'bound', '--timeout=30s']);
  assert.match(r.stdout, /pod "bound" deleted/);
  assert.match((await srv.kubectl(['-n', ns, 'get', 'pod', 'bound'], { allowFailure: true })).stderr, /NotFound/);
});
