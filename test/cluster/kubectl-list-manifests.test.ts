// `kind: List` manifests (what `kubectl get -o yaml` prints) through real
// kubectl: it validates them client-side from /openapi/v2 in gnostic protobuf,
// so these tests prove the protobuf document parses and drives validation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, suffix, type TestServer } from './test-server.js';
import { TypeRegistry } from '../../src/kube/api/registry.js';
import { openApiV2, openApiV2Protobuf } from '../../src/apiserver/openapi.js';
import { readFields, toStr, toBytes, type WireField } from '../../src/apiserver/protobuf/wire.js';

let srv: TestServer;
let ns: string;
before(async () => {
  srv = await startTestServer();
  ns = `list-${suffix()}`;
  await srv.kubectl(['create', 'namespace', ns]);
});
after(async () => {
  await srv?.stop();
});

const cm = (name: string, extra = '') => `- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: ${name}, namespace: NS, labels: {set: SET}}\n  data: {k: v-${name}}\n${extra}`;
const list = (set: string, ...items: string[]) => `apiVersion: v1\nkind: List\nitems:\n${items.join('')}`.replaceAll('NS', ns).replaceAll('SET', set);
const names = async (set: string) => (await srv.kubectl(['-n', ns, 'get', 'cm', '-l', `set=${set}`, '-o', 'jsonpath={.items[*].metadata.name}'])).stdout.split(' ').filter(Boolean).sort();

test('apply -f and create -f of a List make every item', async () => {
  const applied = await srv.kubectl(['apply', '-f', '-'], { input: list('a', cm('a1'), cm('a2')) });
  assert.match(applied.stdout, /configmap\/a1 created/);
  assert.deepEqual(await names('a'), ['a1', 'a2']);
  const created = await srv.kubectl(['create', '-f', '-'], { input: list('c', cm('c1'), cm('c2')) });
  assert.match(created.stdout, /configmap\/c2 created/);
  assert.deepEqual(await names('c'), ['c1', 'c2']);
});

test('`kubectl get -o yaml | kubectl apply -f -` round trips', async () => {
  await srv.kubectl(['apply', '-f', '-'], { input: list('r', cm('r1'), cm('r2')) });
  const yaml = (await srv.kubectl(['-n', ns, 'get', 'cm', '-l', 'set=r', '-o', 'yaml'])).stdout;
  assert.match(yaml, /^kind: List$/m);
  const again = await srv.kubectl(['apply', '-f', '-'], { input: yaml.replaceAll('v-r1', 'changed') });
  assert.match(again.stdout, /configmap\/r1 configured/);
  // r2's last-applied annotation now holds the whole fetched object, so kubectl
  // may call it configured (as against Kubernetes); either way it must apply.
  assert.match(again.stdout, /configmap\/r2 (configured|unchanged)/);
  assert.equal((await srv.kubectl(['-n', ns, 'get', 'cm', 'r1', '-o', 'jsonpath={.data.k}'])).stdout, 'changed');
});

test('a List item with an unknown field is refused client-side, naming the field, and nothing is made', async () => {
  for (const verb of ['apply', 'create']) {
    const bad = await srv.kubectl([verb, '-f', '-'], { input: list('bad', cm('ok1'), cm('bad1', '  bogusField: 1\n')), allowFailure: true });
    assert.notEqual(bad.code, 0, verb);
    assert.match(bad.stderr, /error validating data: ValidationError\(ConfigMap\): unknown field "bogusField" in io\.k8s\.api\.core\.v1\.ConfigMap/, verb);
  }
  // A nested field of a typed item too: the models reach Deployment's pod template.
  const deploy = `apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: d1, namespace: ${ns}}\n  spec:\n    selector: {matchLabels: {app: d1}}\n    template:\n      metadata: {labels: {app: d1}}\n      spec: {containers: [{name: c, image: busybox, imagePullPolicyy: Always}]}\n`;
  const nested = await srv.kubectl(['apply', '-f', '-'], { input: deploy, allowFailure: true });
  assert.match(nested.stderr, /unknown field "imagePullPolicyy" in io\.k8s\.api\.core\.v1\.Container/);
  assert.deepEqual(await names('bad'), []);
  assert.equal((await srv.kubectl(['-n', ns, 'get', 'deploy', '-o', 'name'])).stdout.trim(), '');
});

test('a List of mixed kinds with int-or-string and quantity fields validates and applies', async () => {
  const mixed = `apiVersion: v1\nkind: List\nitems:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, namespace: ${ns}}
  spec:
    selector: {matchLabels: {app: web}}
    strategy: {rollingUpdate: {maxSurge: 25%, maxUnavailable: 1}}
    template:
      metadata: {labels: {app: web}}
      spec: {containers: [{name: c, image: busybox, ports: [{containerPort: 80, name: http}], resources: {limits: {cpu: 100m, memory: 64Mi}}}]}
- apiVersion: v1
  kind: Service
  metadata: {name: web, namespace: ${ns}}
  spec:
    selector: {app: web}
    ports: [{name: a, port: 80, targetPort: http}, {name: b, port: 81, targetPort: 8081}]
`;
  const out = await srv.kubectl(['apply', '-f', '-'], { input: mixed });
  assert.match(out.stdout, /deployment\.apps\/web created/);
  assert.match(out.stdout, /service\/web created/);
});

test('a List of custom resources validates against the CRD schema added after kubectl first fetched the document', async () => {
  const group = `l${suffix()}.example.com`;
  const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.${group}}
spec:
  group: ${group}
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: string}
          extra:
            type: object
            x-kubernetes-preserve-unknown-fields: true
            properties:
              known: {type: string}
`;
  await srv.kubectl(['apply', '-f', '-'], { input: crd });
  try {
    await srv.kubectl(['wait', '--for=condition=Established', `crd/gadgets.${group}`, '--timeout=30s']);
    const g = (name: string, body: string) => `- apiVersion: ${group}/v1\n  kind: Gadget\n  metadata: {name: ${name}, namespace: ${ns}}\n${body}`;
    const ok = await srv.kubectl(['apply', '-f', '-'], { input: `apiVersion: v1\nkind: List\nitems:\n${g('g1', '  spec: {size: big}\n  extra: {known: a, anything: b}\n')}` });
    assert.match(ok.stdout, /gadget\.\S+\/g1 created/);
    const bad = await srv.kubectl(['apply', '-f', '-'], { input: `apiVersion: v1\nkind: List\nitems:\n${g('g2', '  spec: {size: big, colour: red}\n')}`, allowFailure: true });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown field "colour"/);
  } finally {
    await srv.kubectl(['delete', 'crd', `gadgets.${group}`, '--timeout=60s'], { allowFailure: true });
  }
});

test('kubectl create -f of a TokenReview is answered (validated client-side from /openapi/v2)', async () => {
  const token = (await srv.kubectl(['create', 'token', 'default', '-n', 'default'])).stdout.trim();
  const review = `apiVersion: authentication.k8s.io/v1\nkind: TokenReview\nspec: {token: "${token}"}\n`;
  const out = await srv.kubectl(['create', '-f', '-', '-o', 'jsonpath={.status.authenticated} {.status.user.username}'], { input: review });
  assert.equal(out.stdout, 'true system:serviceaccount:default:default');
  const bad = await srv.kubectl(['create', '-f', '-'], { input: review + 'bogus: 1\n', allowFailure: true });
  assert.match(bad.stderr, /unknown field "bogus" in io\.k8s\.api\.authentication\.v1\.TokenReview/);
});

test('/openapi/v2 answers JSON by default and gnostic protobuf when asked', async () => {
  const json = await srv.http('GET', '/openapi/v2');
  assert.equal(json.headers['content-type'], 'application/json');
  assert.equal(JSON.parse(json.body).swagger, '2.0');
  const pb = await srv.http('GET', '/openapi/v2', { headers: { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
  assert.equal(pb.status, 200);
  assert.equal(pb.headers['content-type'], 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
});

// Decoding our own encoding with the read side checks the field numbers the
// kubectl tests above depend on, one by one.
const first = (fields: WireField[], no: number): WireField => {
  const f = fields.find((x) => x.no === no);
  assert.ok(f, `field ${no} present`);
  return f;
};
const named = (fields: WireField[], no: number, name: string): WireField[] => {
  for (const f of fields.filter((x) => x.no === no)) {
    const pair = readFields(toBytes(f.value));
    if (toStr(first(pair, 1).value) === name) return readFields(toBytes(first(pair, 2).value));
  }
  assert.fail(`no entry named ${name} in field ${no}`);
};

test('the protobuf document carries swagger, info, definitions (type, properties, $ref, GVK) and paths', () => {
  const reg = new TypeRegistry();
  const bytes = openApiV2Protobuf(reg);
  assert.equal(openApiV2Protobuf(reg), bytes, 'cached while the registry is unchanged');
  const doc = readFields(bytes);
  assert.equal(toStr(first(doc, 1).value), '2.0');
  assert.equal(toStr(first(readFields(toBytes(first(doc, 2).value)), 1).value), 'Kubernetes');
  const defs = readFields(toBytes(first(doc, 9).value));
  const configMap = named(defs, 1, 'io.k8s.api.core.v1.ConfigMap');
  assert.deepEqual(readFields(toBytes(first(configMap, 22).value)).map((f) => toStr(f.value)), ['object']);
  const props = readFields(toBytes(first(configMap, 25).value));
  const metadata = named(props, 1, 'metadata');
  assert.equal(toStr(first(metadata, 1).value), '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  const data = named(props, 1, 'data');
  const additional = readFields(toBytes(first(data, 21).value));
  const valueSchema = readFields(toBytes(first(additional, 1).value));
  assert.deepEqual(readFields(toBytes(first(valueSchema, 22).value)).map((f) => toStr(f.value)), ['string']);
  const gvk = named(configMap, 31, 'x-kubernetes-group-version-kind');
  assert.deepEqual(JSON.parse(toStr(first(gvk, 2).value)), [{ group: '', version: 'v1', kind: 'ConfigMap' }]);
  const paths = readFields(toBytes(first(doc, 8).value));
  const cmPath = named(paths, 2, '/api/v1/namespaces/{namespace}/configmaps');
  const post = readFields(toBytes(first(cmPath, 4).value));
  assert.equal(toStr(first(post, 5).value), 'createConfigMapCorev1');
  assert.equal(Object.keys((openApiV2(reg).paths as Record<string, unknown>)).length, readFields(toBytes(first(doc, 8).value)).length);
});
