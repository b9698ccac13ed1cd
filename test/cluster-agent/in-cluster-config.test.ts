// In-cluster config for pods, on one real `tug server` with its embedded agent,
// driven with kubectl: ServiceAccount admission (default account, the
// kube-api-access projected volume and its mounts, automount opt-outs, a
// missing ServiceAccount refused), service environment variables
// (enableServiceLinks), and `kubectl create -f` of a TokenReview.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { serviceEnv, serviceVars } from '../../src/node/agent/service-env.js';
import { startAgentCluster, leftovers, suffix, type AgentCluster } from './agent-cluster.js';

let c: AgentCluster;
let ns: string;

const SA_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
const VOLUME_NAME = /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/;
const LOOP = ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'];

before(async () => {
  c = await startAgentCluster();
  ns = `incl-${suffix()}`;
});

after(async () => {
  if (!c) return;
  try {
    await c.kubectl(['-n', ns, 'delete', 'pods', '--all', '--grace-period=1'], { allowFailure: true });
    await c.kubectl(['delete', 'namespace', ns, '--wait=false'], { allowFailure: true });
  } finally {
    await c.stop();
  }
  assert.deepEqual(await leftovers(c.dataDir, c.net), []);
});

function pod(name: string, spec: object): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { nodeName: c.nodeName, terminationGracePeriodSeconds: 1, ...spec } };
}

/** One `kubectl create`, objects in order (a JSON stream: kubectl would validate a v1 List client-side from protobuf /openapi/v2). */
async function createAll(objects: object[]): Promise<void> {
  await c.kubectl(['create', '-f', '-'], { input: objects.map((o) => JSON.stringify(o)).join('\n') });
}

async function getJson(args: string[]): Promise<any> {
  return JSON.parse((await c.kubectl([...args, '-o', 'json'])).stdout);
}

/** The pod as admission would store it, without running it. */
async function admitted(manifest: object): Promise<any> {
  return JSON.parse((await c.kubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], { input: JSON.stringify(manifest) })).stdout);
}

async function waitRunning(name: string): Promise<any> {
  return c.until(`${name} Running`, async () => {
    const p = await getJson(['-n', ns, 'get', 'pod', name]);
    return p.status?.phase === 'Running' && p.status.containerStatuses?.every((s: any) => s.state.running) ? p : undefined;
  });
}

const exec = async (name: string, cmd: string): Promise<string> => (await c.kubectl(['-n', ns, 'exec', name, '--', 'sh', '-c', cmd])).stdout;

async function envOf(name: string): Promise<Map<string, string>> {
  const lines = (await exec(name, 'env')).split('\n').filter((l) => l.includes('='));
  return new Map(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

test('a pod created right behind its namespace gets the default ServiceAccount and a kube-api-access volume whose token authenticates as it, with the cluster CA and its namespace', async () => {
  // One kubectl call: the pod follows the namespace before any controller could make "default".
  await createAll([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    pod('api', { initContainers: [{ name: 'init', image: 'busybox', command: ['true'] }], containers: [{ name: 'c', image: 'busybox', command: LOOP }] }),
  ]);
  const p = await getJson(['-n', ns, 'get', 'pod', 'api']);
  assert.equal(p.spec.serviceAccountName, 'default');
  assert.equal(p.spec.serviceAccount, 'default');
  assert.equal(p.spec.volumes.length, 1);
  const vol = p.spec.volumes[0];
  assert.match(vol.name, VOLUME_NAME);
  assert.deepEqual(vol.projected, {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  });
  for (const ctr of [...p.spec.initContainers, ...p.spec.containers]) assert.deepEqual(ctr.volumeMounts, [{ name: vol.name, readOnly: true, mountPath: SA_PATH }], ctr.name);
  // The namespace's "default" ServiceAccount exists once (made by admission or the controller, whichever came first).
  assert.equal((await getJson(['-n', ns, 'get', 'serviceaccounts'])).items.filter((s: any) => s.metadata.name === 'default').length, 1);

  await waitRunning('api');
  const token = await exec('api', `cat ${SA_PATH}/token`);
  assert.equal(await exec('api', `cat ${SA_PATH}/namespace`), ns);
  assert.equal(await exec('api', `cat ${SA_PATH}/ca.crt`), await readFile(join(c.dataDir, 'pki', 'ca.crt'), 'utf8'));
  assert.match(await exec('api', `touch ${SA_PATH}/x 2>/dev/null || echo read-only`), /read-only/);
  // The token as rest.InClusterConfig would send it: the API knows the pod's ServiceAccount.
  const who = JSON.parse((await c.kubectl(['--token', token, 'auth', 'whoami', '-o', 'json'])).stdout);
  assert.equal(who.status.userInfo.username, `system:serviceaccount:${ns}:default`);
});

test('automountServiceAccountToken false (pod or ServiceAccount) gives no volume; the pod setting wins; an existing mount of the path is kept; serviceAccount is the alias of serviceAccountName', async () => {
  await c.kubectl(['-n', ns, 'create', 'serviceaccount', 'quiet']);
  await c.kubectl(['-n', ns, 'patch', 'serviceaccount', 'quiet', '-p', '{"automountServiceAccountToken":false}']);
  const plain = { containers: [{ name: 'c', image: 'busybox', command: LOOP }] };

  const podOff = await admitted(pod('off', { ...plain, automountServiceAccountToken: false }));
  assert.equal(podOff.spec.serviceAccountName, 'default');
  assert.equal(podOff.spec.volumes, undefined);
  assert.equal(podOff.spec.containers[0].volumeMounts, undefined);

  const saOff = await admitted(pod('sa-off', { ...plain, serviceAccountName: 'quiet' }));
  assert.equal(saOff.spec.volumes, undefined);
  assert.equal(saOff.spec.containers[0].volumeMounts, undefined);

  const podOn = await admitted(pod('pod-on', { ...plain, serviceAccount: 'quiet', automountServiceAccountToken: true }));
  assert.equal(podOn.spec.serviceAccountName, 'quiet');
  assert.match(podOn.spec.volumes[0].name, VOLUME_NAME);
  assert.equal(podOn.spec.containers[0].volumeMounts[0].mountPath, SA_PATH);

  const own = await admitted(
    pod('own', {
      containers: [
        { name: 'mine', image: 'busybox', command: LOOP, volumeMounts: [{ name: 'scratch', mountPath: SA_PATH }] },
        { name: 'other', image: 'busybox', command: LOOP },
      ],
      volumes: [{ name: 'scratch', emptyDir: {} }],
    }),
  );
  assert.deepEqual(own.spec.containers[0].volumeMounts, [{ name: 'scratch', mountPath: SA_PATH }]);
  assert.equal(own.spec.volumes.length, 2);
  assert.equal(own.spec.containers[1].volumeMounts[0].name, own.spec.volumes[1].name);
  assert.match(own.spec.volumes[1].name, VOLUME_NAME);
});

test('a pod naming a missing ServiceAccount is refused with 403 and Kubernetes\' wording', async () => {
  const r = await c.kubectl(['create', '-f', '-'], { input: JSON.stringify(pod('ghostly', { serviceAccountName: 'ghost', containers: [{ name: 'c', image: 'busybox' }] })), allowFailure: true });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Error from server \(Forbidden\)/);
  assert.ok(r.stderr.includes(`pods "ghostly" is forbidden: error looking up service account ${ns}/ghost: serviceaccount "ghost" not found`), r.stderr);
  const raw = await postJson(`/api/v1/namespaces/${ns}/pods`, pod('ghostly', { serviceAccountName: 'ghost', containers: [{ name: 'c', image: 'busybox' }] }));
  assert.equal(raw.status, 403);
  assert.equal(raw.body.reason, 'Forbidden');
  assert.equal(raw.body.code, 403);
  assert.equal((await c.kubectl(['-n', ns, 'get', 'pod', 'ghostly'], { allowFailure: true })).code, 1);
});

/** A POST to the API server (on loopback) as the admin, trusting the cluster CA. */
async function postJson(path: string, body: object): Promise<{ status: number; body: any }> {
  const ca = await readFile(join(c.dataDir, 'pki', 'ca.crt'), 'utf8');
  return new Promise((resolve, reject) => {
    const req = request(`${c.url}${path}`, { method: 'POST', ca, headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' } }, (res) => {
      let data = '';
      res.on('data', (b: Buffer) => (data += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

test('service variables: KUBERNETES_* always, the namespace\'s Services unless enableServiceLinks is false, headless ones skipped, the container\'s env wins', async () => {
  const svc = (name: string, spec: object) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector: { app: name }, ...spec } });
  await createAll([
    svc('web-front', { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'stats', port: 9090, protocol: 'UDP' }] }),
    svc('hidden', { clusterIP: 'None', ports: [{ port: 80 }] }),
  ]);
  const ip = (await getJson(['-n', ns, 'get', 'service', 'web-front'])).spec.clusterIP as string;
  const master = (await getJson(['-n', 'default', 'get', 'service', 'kubernetes'])).spec.clusterIP as string;
  const env = [
    { name: 'WEB_FRONT_SERVICE_HOST', value: 'mine' },
    { name: 'FRONT_URL', value: 'http://$(WEB_FRONT_SERVICE_HOST):$(WEB_FRONT_SERVICE_PORT)' },
  ];
  await createAll([pod('links', { containers: [{ name: 'c', image: 'busybox', command: LOOP, env }] }), pod('nolinks', { enableServiceLinks: false, containers: [{ name: 'c', image: 'busybox', command: LOOP }] })]);
  await waitRunning('links');
  await waitRunning('nolinks');

  const withLinks = await envOf('links');
  for (const e of [withLinks, await envOf('nolinks')]) {
    assert.equal(e.get('KUBERNETES_SERVICE_HOST'), master);
    assert.equal(e.get('KUBERNETES_SERVICE_PORT'), '443');
    assert.equal(e.get('KUBERNETES_SERVICE_PORT_HTTPS'), '443');
    assert.equal(e.get('KUBERNETES_PORT'), `tcp://${master}:443`);
    assert.equal(e.get('KUBERNETES_PORT_443_TCP'), `tcp://${master}:443`);
    assert.equal(e.get('KUBERNETES_PORT_443_TCP_PROTO'), 'tcp');
    assert.equal(e.get('KUBERNETES_PORT_443_TCP_PORT'), '443');
    assert.equal(e.get('KUBERNETES_PORT_443_TCP_ADDR'), master);
  }
  assert.equal(withLinks.get('WEB_FRONT_SERVICE_HOST'), 'mine');
  assert.equal(withLinks.get('WEB_FRONT_SERVICE_PORT'), '80');
  assert.equal(withLinks.get('WEB_FRONT_SERVICE_PORT_HTTP'), '80');
  assert.equal(withLinks.get('WEB_FRONT_SERVICE_PORT_STATS'), '9090');
  assert.equal(withLinks.get('WEB_FRONT_PORT'), `tcp://${ip}:80`);
  assert.equal(withLinks.get('WEB_FRONT_PORT_80_TCP_ADDR'), ip);
  assert.equal(withLinks.get('WEB_FRONT_PORT_9090_UDP'), `udp://${ip}:9090`);
  assert.equal(withLinks.get('WEB_FRONT_PORT_9090_UDP_PROTO'), 'udp');
  assert.equal(withLinks.get('WEB_FRONT_PORT_9090_UDP_PORT'), '9090');
  assert.equal(withLinks.get('FRONT_URL'), 'http://mine:80');
  assert.deepEqual([...withLinks.keys()].filter((k) => k.startsWith('HIDDEN_')), []);
  assert.deepEqual([...(await envOf('nolinks')).keys()].filter((k) => k.startsWith('WEB_FRONT_')), []);
});

test('kubectl create -f of a TokenReview answers (its schema comes from /openapi/v2 in protobuf)', async () => {
  const token = (await c.kubectl(['-n', ns, 'create', 'token', 'default'])).stdout.trim();
  const review = `apiVersion: authentication.k8s.io/v1\nkind: TokenReview\nspec:\n  token: ${token}\n`;
  const out = (await c.kubectl(['create', '-f', '-', '-o', 'json'], { input: review })).stdout;
  const r = JSON.parse(out);
  assert.equal(r.kind, 'TokenReview');
  assert.equal(r.status.authenticated, true);
  assert.equal(r.status.user.username, `system:serviceaccount:${ns}:default`);
  const sar = `apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec:\n  user: system:serviceaccount:${ns}:default\n  resourceAttributes:\n    verb: list\n    resource: secrets\n    namespace: ${ns}\n`;
  const s = JSON.parse((await c.kubectl(['create', '-f', '-', '-o', 'json'], { input: sar })).stdout);
  assert.equal(s.status.allowed, false);
});

test('service variables without a cluster: IPv6 addresses in brackets, ExternalName and port-less Services skipped, the master Service kept when another namespace names one "kubernetes"', () => {
  const v6 = new Map(serviceVars({ metadata: { name: 'six' }, spec: { clusterIP: 'fd00::10', ports: [{ port: 53, protocol: 'UDP' }] } }));
  assert.equal(v6.get('SIX_PORT'), 'udp://[fd00::10]:53');
  assert.equal(v6.get('SIX_PORT_53_UDP_ADDR'), 'fd00::10');
  assert.deepEqual(serviceVars({ metadata: { name: 'ext' }, spec: { ports: [{ port: 80 }] } }), []);
  assert.deepEqual(serviceVars({ metadata: { name: 'noports' }, spec: { clusterIP: '10.0.0.9' } }), []);
  const services = [
    { metadata: { name: 'kubernetes', namespace: 'default' }, spec: { clusterIP: '10.0.0.1', ports: [{ name: 'https', port: 443 }] } },
    { metadata: { name: 'kubernetes', namespace: 'other' }, spec: { clusterIP: '10.0.0.2', ports: [{ port: 80 }] } },
    { metadata: { name: 'db', namespace: 'mine' }, spec: { clusterIP: '10.0.0.3', ports: [{ port: 5432 }] } },
  ];
  assert.equal(serviceEnv('other', false, services).get('KUBERNETES_SERVICE_HOST'), '10.0.0.1');
  assert.equal(serviceEnv('mine', false, services).has('DB_SERVICE_HOST'), false);
  assert.equal(serviceEnv('mine', undefined, services).get('DB_SERVICE_PORT'), '5432');
});
