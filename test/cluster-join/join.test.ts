// Joining a node the kubeadm way against a real `tug server` and real
// `tug agent` processes: bootstrap tokens (tug token, kubectl), TLS
// bootstrapping through a CertificateSigningRequest the server approves and
// signs, reuse of the kept certificate on restart, rotation (of the client
// certificate and of the kubelet-serving one its TLS endpoint presents), refusals of wrong
// and expired tokens, and kubectl certificate approve|deny on a manual request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { request as httpsRequest } from 'node:https';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runTool } from '../../src/util/exec-file.js';
import { startAgentCluster, startAgentProcess, suffix, tugBin, leftovers, type AgentCluster, type AgentProc } from '../cluster-agent/agent-cluster.js';

let c: AgentCluster;
const started: AgentProc[] = [];

before(async () => {
  c = await startAgentCluster({ serverArgs: ['--cluster-signing-duration', '10m'] });
});

after(async () => {
  for (const a of started) {
    await a.proc.stop();
    assert.deepEqual(await leftovers(a.dataDir, a.net), []);
    await a.stop();
  }
  await c?.stop();
});

const tug = (args: string[]) => runTool(process.execPath, [tugBin, ...args], { allowFailure: true });
const json = async (args: string[]) => JSON.parse((await c.kubectl([...args, '-o', 'json'])).stdout);

interface Csr {
  metadata: { name: string };
  spec: { username: string; signerName: string };
  status?: { certificate?: string; conditions?: Array<{ type: string }> };
}
const csrs = async (): Promise<Csr[]> => (await json(['get', 'csr'])).items;

/** The client certificate an agent keeps in DATA_DIR/node.kubeconfig. */
async function keptCert(dataDir: string): Promise<X509Certificate> {
  const cfg = parseYaml(await readFile(join(dataDir, 'node.kubeconfig'), 'utf8'));
  return new X509Certificate(Buffer.from(cfg.users[0].user['client-certificate-data'], 'base64'));
}

/** The serving certificate an agent keeps in DATA_DIR/kubelet-server-current.pem. */
async function keptServingCert(dataDir: string): Promise<X509Certificate> {
  return new X509Certificate(await readFile(join(dataDir, 'kubelet-server-current.pem')));
}

/** The fingerprint of the certificate a node's endpoint presents to a new connection (verified against the cluster CA and the node's IP). */
async function presentedFingerprint(node: string): Promise<string> {
  const n = await json(['get', 'node', node]);
  const host = n.status.addresses.find((a: { type: string }) => a.type === 'InternalIP').address as string;
  const ca = await readFile(join(c.dataDir, 'pki', 'ca.crt'), 'utf8');
  return new Promise((resolve, reject) => {
    const s = connect({ host, port: n.status.daemonEndpoints.kubeletEndpoint.Port, ca }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

async function nodeReady(name: string): Promise<boolean> {
  const r = await c.kubectl(['get', 'node', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'], { allowFailure: true });
  return r.stdout === 'True';
}

test('tug token create, list and delete; kubectl sees the bootstrap token Secrets', async () => {
  const created = await tug(['token', 'create', '--data-dir', c.dataDir, '--ttl', '2h', '--description', 'for the test']);
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  assert.match(token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  const id = token.split('.')[0]!;
  const secret = await json(['-n', 'kube-system', 'get', 'secret', `bootstrap-token-${id}`]);
  assert.equal(secret.type, 'bootstrap.kubernetes.io/token');
  const field = (k: string) => Buffer.from(secret.data[k], 'base64').toString();
  assert.equal(field('token-id'), id);
  assert.equal(field('token-secret'), token.split('.')[1]);
  assert.equal(field('usage-bootstrap-authentication'), 'true');
  assert.equal(field('auth-extra-groups'), 'system:bootstrappers:tug:default-node-token');
  const exp = Date.parse(field('expiration'));
  assert.ok(exp > Date.now() + 110 * 60_000 && exp <= Date.now() + 120 * 60_000, field('expiration'));
  const list = await tug(['token', 'list', '--data-dir', c.dataDir]);
  assert.match(list.stdout, new RegExp(`^${id}\\.<secret>\\s+\\S+\\s+\\S+\\s+authentication,signing\\s+for the test\\s+system:bootstrappers:tug:default-node-token$`, 'm'));
  // The API authenticates it as kubeadm's bootstrap user.
  const review = await c.kubectl(['create', '-f', '-', '-o', 'json'], { input: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } }) });
  const user = JSON.parse(review.stdout).status.user;
  assert.equal(user.username, `system:bootstrap:${id}`);
  assert.deepEqual(user.groups.sort(), ['system:authenticated', 'system:bootstrappers', 'system:bootstrappers:tug:default-node-token']);
  const deleted = await tug(['token', 'delete', '--data-dir', c.dataDir, id]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal((await c.kubectl(['-n', 'kube-system', 'get', 'secret', `bootstrap-token-${id}`], { allowFailure: true })).code, 1);
  const again = await tug(['token', 'delete', '--data-dir', c.dataDir, id]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /bootstrap token "[a-z0-9]{6}" not found/);
  const bad = await tug(['token', 'create', '--data-dir', c.dataDir, '--groups', 'system:masters']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--groups "system:masters": extra groups must start with "system:bootstrappers:"/);
});

test('the join command carries a bootstrap token; an agent joins with it through an approved and issued CSR', async () => {
  assert.match(c.joinToken, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  const name = `join-${suffix()}`;
  const agent = await c.startAgent(name);
  started.push(agent);
  assert.match(agent.proc.output(), new RegExp(`joined as system:node:${name}`));
  await c.until('node Ready', () => nodeReady(name));
  const mine = (await csrs()).filter((r) => r.spec.username === `system:bootstrap:${c.joinToken.split('.')[0]}`);
  assert.equal(mine.length, 1);
  assert.equal(mine[0]!.spec.signerName, 'kubernetes.io/kube-apiserver-client-kubelet');
  const table = (await c.kubectl(['get', 'csr', mine[0]!.metadata.name])).stdout;
  assert.match(table, /NAME\s+AGE\s+SIGNERNAME\s+REQUESTOR\s+REQUESTEDDURATION\s+CONDITION/);
  assert.match(table, /kubernetes\.io\/kube-apiserver-client-kubelet\s+system:bootstrap:[a-z0-9]{6}\s+<none>\s+Approved,Issued/);
  const cert = await keptCert(agent.dataDir);
  assert.match(cert.subject, new RegExp(`CN=system:node:${name}`));
  assert.match(cert.subject, /O=system:nodes/);
  assert.ok(cert.checkIssued(new X509Certificate(await readFile(join(c.dataDir, 'pki', 'ca.crt')))));
  // --cluster-signing-duration 10m.
  const life = Date.parse(cert.validTo) - Date.parse(cert.validFrom);
  assert.ok(life <= 11 * 60_000 && life >= 10 * 60_000, `lifetime ${life}`);
  // The node's Lease is held and renewed by the node itself, with its new identity.
  const lease = await json(['-n', 'kube-node-lease', 'get', 'lease', name]);
  assert.equal(lease.spec.holderIdentity, name);
});

test('a restarted agent reuses its kept certificate: no new CSR, no token needed', async () => {
  const agent = started[0]!;
  const name = agent.proc.output().match(/joined as system:node:(\S+)/)![1]!;
  const before = await keptCert(agent.dataDir);
  const count = (await csrs()).length;
  await agent.proc.stop();
  const again = await startAgentProcess({ url: c.url, token: 'abcdef.0123456789abcdef', caCertHash: c.caCertHash, nodeName: name, dataDir: agent.dataDir, net: agent.net });
  started[0] = again;
  assert.match(again.proc.output(), /using the node certificate in/);
  assert.equal((await csrs()).length, count);
  assert.equal((await keptCert(again.dataDir)).fingerprint256, before.fingerprint256);
  await c.until('node Ready after the restart', () => nodeReady(name));
});

test('the client and serving certificates are renewed before they expire, without a restart', async () => {
  const name = `rotate-${suffix()}`;
  // 10m certificates (back-dated a minute) renewed at 10% of their life: every ~6 s.
  const agent = await startAgentProcess({ url: c.url, token: c.joinToken, caCertHash: c.caCertHash, nodeName: name, env: { TUG_AGENT_CERT_ROTATION_FRACTION: '0.1' } });
  started.push(agent);
  const first = await keptCert(agent.dataDir);
  const firstServing = await keptServingCert(agent.dataDir);
  assert.equal(await presentedFingerprint(name), firstServing.fingerprint256);
  await c.until('a second serving CSR by the node, issued', async () => (await csrs()).filter((r) => r.spec.username === `system:node:${name}` && r.spec.signerName === 'kubernetes.io/kubelet-serving' && !!r.status?.certificate).length >= 2, 120);
  await c.until('the kept serving certificate replaced', async () => (await keptServingCert(agent.dataDir)).fingerprint256 !== firstServing.fingerprint256, 60);
  // New connections get the renewed certificate from the running agent.
  await c.until('the endpoint presenting a renewed certificate', async () => (await presentedFingerprint(name)) !== firstServing.fingerprint256, 60);
  assert.match(agent.proc.output(), /serving certificate renewed/);
  await c.until('a renewal CSR by the node itself, issued', async () => (await csrs()).some((r) => r.spec.username === `system:node:${name}` && r.spec.signerName === 'kubernetes.io/kube-apiserver-client-kubelet' && !!r.status?.certificate), 120);
  await c.until('the kept certificate replaced', async () => (await keptCert(agent.dataDir)).fingerprint256 !== first.fingerprint256, 60);
  assert.match(agent.proc.output(), /client certificate renewed/);
  assert.equal(agent.proc.child.exitCode, null, 'the agent did not restart');
  // Still talking to the server with the new one: the node stays Ready and pods run.
  const pod = `rot-${suffix()}`;
  await c.kubectl(['run', pod, '--image=busybox', '--restart=Never', `--overrides={"spec":{"nodeName":"${name}"}}`, '--', 'sh', '-c', 'echo renewed; sleep 3600']);
  await c.until('pod Running on the rotated node', async () => (await json(['get', 'pod', pod])).status?.phase === 'Running');
  // The API server verifies whichever renewed serving certificate the agent presents now.
  await c.until('kubectl logs through the renewed serving certificate', async () => (await c.kubectl(['logs', pod], { allowFailure: true })).stdout === 'renewed\n');
  await c.kubectl(['delete', 'pod', pod, '--wait=true', '--grace-period=1']);
  assert.ok(await nodeReady(name));
});

async function agentFails(token: string): Promise<{ code: number; output: string; name: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tug-join-refused-'));
  const name = `refused-${suffix()}`;
  try {
    const r = await runTool(process.execPath, [tugBin, 'agent', '--server', c.url, '--token', token, '--discovery-token-ca-cert-hash', c.caCertHash, '--data-dir', dir, '--node-name', name, '--node-bridge', `tkr${suffix()}`], { allowFailure: true });
    assert.ok(!(await readdir(dir)).includes('node.kubeconfig'));
    return { code: r.code, output: r.stdout + r.stderr, name };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a wrong token: the agent says so, exits non-zero, and registers nothing', async () => {
  const r = await agentFails('abcdef.0123456789abcdef');
  assert.notEqual(r.code, 0);
  assert.match(r.output, /refused the bootstrap token \(401 Unauthorized\)/);
  assert.equal((await c.kubectl(['get', 'node', r.name], { allowFailure: true })).code, 1, 'no Node');
});

test('an expired token: refused the same way, and the token cleaner deletes its Secret', async () => {
  const id = `x${suffix().slice(0, 5)}`;
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' },
    type: 'bootstrap.kubernetes.io/token',
    stringData: { 'token-id': id, 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true', expiration: new Date(Date.now() - 60_000).toISOString() },
  };
  await c.kubectl(['create', '-f', '-'], { input: JSON.stringify(secret) });
  const r = await agentFails(`${id}.0123456789abcdef`);
  assert.notEqual(r.code, 0);
  assert.match(r.output, /refused the bootstrap token/);
  assert.equal((await c.kubectl(['get', 'node', r.name], { allowFailure: true })).code, 1, 'no Node');
  await c.until('the expired token Secret deleted', async () => (await c.kubectl(['-n', 'kube-system', 'get', 'secret', `bootstrap-token-${id}`], { allowFailure: true })).code === 1);
});

async function manualCsr(name: string, cn: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tug-join-csr-'));
  try {
    await runTool('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(dir, 'k.pem')]);
    await runTool('openssl', ['req', '-new', '-key', join(dir, 'k.pem'), '-subj', `/CN=${cn}/O=devs`, '-out', join(dir, 'r.csr')]);
    const request = (await readFile(join(dir, 'r.csr'))).toString('base64');
    await c.kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name }, spec: { request, signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], expirationSeconds: 3600 } }) });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('kubectl certificate approve and deny on requests nobody approves by itself', async () => {
  const ok = `jane-${suffix()}`;
  const no = `joe-${suffix()}`;
  await manualCsr(ok, 'jane');
  await manualCsr(no, 'joe');
  assert.match((await c.kubectl(['get', 'csr', ok])).stdout, /admin\s+60m\s+Pending/);
  await c.kubectl(['certificate', 'approve', ok]);
  await c.kubectl(['certificate', 'deny', no]);
  await c.until('jane issued', async () => (await c.kubectl(['get', 'csr', ok])).stdout.includes('Approved,Issued'));
  const got = await json(['get', 'csr', ok]);
  const cert = new X509Certificate(Buffer.from(got.status.certificate, 'base64'));
  assert.match(cert.subject, /CN=jane/);
  const life = Date.parse(cert.validTo) - Date.parse(cert.validFrom);
  assert.ok(life <= 61 * 60_000 + 1000, `expirationSeconds honoured: ${life}`);
  assert.match((await c.kubectl(['get', 'csr', no])).stdout, /\sDenied\s*$/m);
  assert.equal((await json(['get', 'csr', no])).status.certificate, undefined);
  // The issued certificate works as a client certificate of user jane.
  assert.equal(got.spec.username, 'admin');
});

test('CSR validation answers 422 naming the field', async () => {
  const r = await c.kubectl(['create', '-f', '-'], {
    allowFailure: true,
    input: JSON.stringify({ apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: `bad-${suffix()}` }, spec: { request: Buffer.from('hello').toString('base64'), signerName: 'nope', usages: ['flying'], expirationSeconds: 60 } }),
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /spec\.request: Invalid value/);
  assert.match(r.stderr, /spec\.signerName: Invalid value: "nope"/);
  assert.match(r.stderr, /spec\.usages\[0\]: Unsupported value: "flying"/);
  assert.match(r.stderr, /spec\.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds/);
});

/** GET on the API server with the admin token; status and body. */
async function apiGet(path: string): Promise<{ status: number; body: string }> {
  const ca = await readFile(join(c.dataDir, 'pki', 'ca.crt'), 'utf8');
  return new Promise((resolve, reject) => {
    const req = httpsRequest(new URL(path, c.url), { ca, headers: { authorization: `Bearer ${c.token}` } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a node whose serving certificate is not issued: kubectl logs is a 502 naming the TLS reason, until kubectl certificate approve', async () => {
  // An agent on the static admin token is not system:node:<name>: nobody approves its serving request by itself.
  const name = `unserved-${suffix()}`;
  const agent = await startAgentProcess({ url: c.url, token: c.token, caCertHash: c.caCertHash, nodeName: name });
  started.push(agent);
  assert.match(agent.proc.output(), /no serving certificate issued within 30s/);
  const pending = (await csrs()).filter((r) => r.spec.signerName === 'kubernetes.io/kubelet-serving' && r.spec.username === 'admin' && !r.status?.conditions?.length);
  assert.equal(pending.length, 1);
  const pod = `unserved-${suffix()}`;
  await c.kubectl(['run', pod, '--image=busybox', '--restart=Never', `--overrides={"spec":{"nodeName":"${name}"}}`, '--', 'sh', '-c', 'echo served; sleep 3600']);
  await c.until('pod Running on the unserved node', async () => (await json(['get', 'pod', pod])).status?.phase === 'Running');
  const refused = await apiGet(`/api/v1/namespaces/default/pods/${pod}/log`);
  assert.equal(refused.status, 502, refused.body);
  const status = JSON.parse(refused.body);
  assert.equal(status.reason, 'BadGateway');
  assert.match(status.message, new RegExp(`node ${name}'s agent at https://[^ ]+: its serving certificate is not trusted \\(DEPTH_ZERO_SELF_SIGNED_CERT`));
  const kubectlLogs = await c.kubectl(['logs', pod], { allowFailure: true });
  assert.notEqual(kubectlLogs.code, 0);
  assert.match(kubectlLogs.stderr, /serving certificate is not trusted/);
  await c.kubectl(['certificate', 'approve', pending[0]!.metadata.name]);
  await c.until('kubectl logs once the serving certificate is issued', async () => (await c.kubectl(['logs', pod], { allowFailure: true })).stdout === 'served\n');
  assert.match(agent.proc.output(), /serving certificate issued/);
  await c.kubectl(['delete', 'pod', pod, '--wait=true', '--grace-period=1']);
});
