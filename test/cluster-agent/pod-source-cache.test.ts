// The node agent keeps the ConfigMaps and Secrets its pods use by watches
// (node/agent/pod-source-cache.ts), as the kubelet does, instead of a GET per
// pod sync. On a real `tug server` with a joined `tug agent` (user
// system:node:<name>, so the Node authorizer judges its single-object watches),
// driven with kubectl: a pod start asks no GET of them, an update reaches the
// running pod's files, a deleted ConfigMap fails a new pod as before and its
// re-creation is seen, and kube-root-ca.crt deleted and restored by its
// publisher still gives the next pod the cluster CA.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startAgentCluster, leftovers, suffix, type AgentCluster, type AgentProc } from './agent-cluster.js';

let c: AgentCluster;
let agent: AgentProc;
const ns = `srccache-${suffix()}`;
const SA_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
const LOOP = ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'];

before(async () => {
  c = await startAgentCluster();
  agent = await c.startAgent(`srccache-${suffix()}`);
  await c.kubectl(['create', 'namespace', ns]);
  await c.until('ServiceAccount default', async () => (await c.kubectl(['-n', ns, 'get', 'serviceaccount', 'default'], { allowFailure: true })).code === 0);
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
  assert.deepEqual(await leftovers(agent.dataDir, agent.net), []);
});

/** A pod on the joined node reading ConfigMap cm (a volume and a projected source), Secret s and the default service-account volume. */
function pod(name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: {
      nodeName: agent.nodeName,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'c', image: 'busybox', command: LOOP, volumeMounts: [{ name: 'cm', mountPath: '/cm' }, { name: 'both', mountPath: '/both' }] }],
      volumes: [
        { name: 'cm', configMap: { name: 'cm' } },
        { name: 'both', projected: { sources: [{ configMap: { name: 'cm', items: [{ key: 'k', path: 'cm-k' }] } }, { secret: { name: 's' } }] } },
      ],
    },
  });
}

const exec = async (name: string, cmd: string): Promise<string> => (await c.kubectl(['-n', ns, 'exec', name, '--', 'sh', '-c', cmd])).stdout;

async function waitRunning(name: string): Promise<void> {
  await c.until(`${name} Running`, async () => {
    const p = JSON.parse((await c.kubectl(['-n', ns, 'get', 'pod', name, '-o', 'json'])).stdout);
    return p.status?.phase === 'Running' && p.status.containerStatuses?.every((s: any) => s.state.running);
  });
}

/** apiserver_request_total of GETs of one resource (any client, any namespace). */
async function gets(resource: string): Promise<number> {
  let n = 0;
  for (const line of (await c.kubectl(['get', '--raw', '/metrics'])).stdout.split('\n')) {
    if (line.startsWith('apiserver_request_total{') && line.includes('verb="GET"') && line.includes(`resource="${resource}"`) && !line.includes('subresource="')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

test('pods read their ConfigMaps and Secrets from the node\'s watches: a pod start asks no GET of them, and an update reaches the running pod\'s files', async () => {
  await c.kubectl(['-n', ns, 'create', 'configmap', 'cm', '--from-literal=k=v1']);
  await c.kubectl(['-n', ns, 'create', 'secret', 'generic', 's', '--from-literal=sk=s1']);
  await c.kubectl(['create', '-f', '-'], { input: pod('first') });
  await waitRunning('first');
  assert.equal(await exec('first', 'cat /cm/k /both/cm-k /both/sk'), 'v1v1s1');
  assert.equal(await exec('first', `cat ${SA_PATH}/ca.crt`), await readFile(join(c.dataDir, 'pki', 'ca.crt'), 'utf8'));

  // A second pod using the same objects: read from the watches the first one opened.
  const before = { cm: await gets('configmaps'), s: await gets('secrets') };
  await c.kubectl(['create', '-f', '-'], { input: pod('second') });
  await waitRunning('second');
  assert.equal(await exec('second', 'cat /cm/k /both/cm-k /both/sk'), 'v1v1s1');
  assert.deepEqual({ cm: await gets('configmaps'), s: await gets('secrets') }, before);

  // Changed data is rewritten into the running pods' volumes (on their next sync).
  await c.kubectl(['-n', ns, 'patch', 'configmap', 'cm', '-p', '{"data":{"k":"v2"}}']);
  await c.kubectl(['-n', ns, 'patch', 'secret', 's', '-p', `{"data":{"sk":"${Buffer.from('s2').toString('base64')}"}}`]);
  for (const p of ['first', 'second']) await c.until(`${p} sees v2 and s2`, async () => (await exec(p, 'cat /cm/k /both/cm-k /both/sk')) === 'v2v2s2');
});

test('a deleted ConfigMap fails a new pod as before (CreateContainerConfigError, the same message) and its re-creation is seen; kube-root-ca.crt deleted and restored still gives the next pod the cluster CA', async () => {
  await c.kubectl(['-n', ns, 'delete', 'configmap', 'cm']);
  await c.kubectl(['create', '-f', '-'], { input: pod('third') });
  const waiting = await c.until('third waits for its ConfigMap', async () => {
    const p = JSON.parse((await c.kubectl(['-n', ns, 'get', 'pod', 'third', '-o', 'json'])).stdout);
    const w = p.status?.containerStatuses?.[0]?.state?.waiting;
    return w?.reason === 'CreateContainerConfigError' ? w : undefined;
  });
  assert.equal(waiting.message, 'configmap "cm" not found');
  assert.equal(JSON.parse((await c.kubectl(['-n', ns, 'get', 'pod', 'third', '-o', 'json'])).stdout).status.phase, 'Pending');

  // Made again, with other data: the waiting pod starts with it, the running ones get it.
  await c.kubectl(['-n', ns, 'create', 'configmap', 'cm', '--from-literal=k=v3']);
  await waitRunning('third');
  assert.equal(await exec('third', 'cat /cm/k /both/cm-k'), 'v3v3');
  await c.until('first sees v3', async () => (await exec('first', 'cat /cm/k /both/cm-k')) === 'v3v3');

  // The root CA publisher restores kube-root-ca.crt (a new object): a pod started after reads it.
  const uid = (await c.kubectl(['-n', ns, 'get', 'configmap', 'kube-root-ca.crt', '-o', 'jsonpath={.metadata.uid}'])).stdout;
  await c.kubectl(['-n', ns, 'delete', 'configmap', 'kube-root-ca.crt']);
  await c.until('kube-root-ca.crt restored', async () => {
    const r = await c.kubectl(['-n', ns, 'get', 'configmap', 'kube-root-ca.crt', '-o', 'jsonpath={.metadata.uid}'], { allowFailure: true });
    return r.code === 0 && r.stdout !== '' && r.stdout !== uid;
  });
  await c.kubectl(['create', '-f', '-'], { input: pod('fourth') });
  await waitRunning('fourth');
  assert.equal(await exec('fourth', `cat ${SA_PATH}/ca.crt`), await readFile(join(c.dataDir, 'pki', 'ca.crt'), 'utf8'));
});
