// Each node's streaming endpoint (the kubelet API role) across three
// namespace-nodes: HTTPS only, with a kubernetes.io/kubelet-serving
// certificate the cluster approved and signed for the node's own address,
// which the API server verifies before it relays kubectl logs, exec, attach
// and port-forward; the API server proves itself with its kubelet-client
// certificate. A plain HTTP request, a client certificate from another CA and
// a caller with no credential at all are refused; an agent restart reuses its
// kept certificate. (Renewal without a restart: test/cluster-join/join.test.ts.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { get as httpGet, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from '../../src/util/exec-file.js';
import { startMultiNodeCluster, hostLeftovers, type MultiNodeCluster, type TestNode } from '../helpers/multinode.js';

let c: MultiNodeCluster;
let work: string;
let ca: string;
const ns = 'tls';
/** Per node name: its pod and its endpoint (InternalIP and posted port). */
const podOn = new Map<string, string>();
const endpointOf = new Map<string, { host: string; port: number }>();

const kns = (args: string[], opts: { input?: string; allowFailure?: boolean } = {}) => c.kubectl(['-n', ns, ...args], opts);
const pki = (f: string) => join(c.dataDir, 'server', 'pki', f);

interface Answer {
  status: number;
  body: string;
}

/** GET over HTTPS to an agent, its certificate verified against the cluster CA, with an optional client certificate or token. */
function agentGet(at: { host: string; port: number }, path: string, o: { cert?: string; key?: string; token?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: at.host, port: at.port, path, ca, cert: o.cert, key: o.key, agent: false, headers: o.token ? { authorization: `Bearer ${o.token}` } : {} }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The certificate an agent presents (verified against the cluster CA and its IP, or the handshake fails). */
function presented(at: { host: string; port: number }): Promise<{ fingerprint256: string; subjectaltname?: string; issuer: string }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: at.host, port: at.port, ca, timeout: 5000 }, () => {
      const cert = s.getPeerCertificate();
      s.destroy();
      resolve({ fingerprint256: cert.fingerprint256, subjectaltname: cert.subjectaltname, issuer: String(cert.issuer.CN) });
    });
    s.on('error', reject);
    s.on('timeout', () => s.destroy(new Error(`no TLS handshake with ${at.host}:${at.port} within 5 s`)));
  });
}

const step = (what: string) => process.stderr.write(`# ${new Date().toISOString()} ${what}\n`);

const servingCsrs = async (node: string) =>
  (JSON.parse((await c.kubectl(['get', 'csr', '-o', 'json'])).stdout).items as any[]).filter((r) => r.spec.signerName === 'kubernetes.io/kubelet-serving' && r.spec.username === `system:node:${node}`);

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'tug-serving-tls-'));
  c = await startMultiNodeCluster({ nodes: 3 });
  ca = await readFile(pki('ca.crt'), 'utf8');
  await c.kubectl(['create', 'namespace', ns]);
  for (const node of c.nodes) {
    const pod = `p-${node.name.slice(-1)}`;
    podOn.set(node.name, pod);
    const spec = { nodeName: node.name, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', stdin: true, command: ['sh', '-c', `echo hello-${pod}; mkdir -p /www && echo served-by-${pod} > /www/index.html && httpd -p 8080 -h /www && exec cat`] }] };
    await kns(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, namespace: ns }, spec }) });
    const n = JSON.parse((await c.kubectl(['get', 'node', node.name, '-o', 'json'])).stdout);
    endpointOf.set(node.name, { host: n.status.addresses.find((a: { type: string }) => a.type === 'InternalIP').address, port: n.status.daemonEndpoints.kubeletEndpoint.Port });
  }
  for (const pod of podOn.values()) await c.until(`${pod} Running`, async () => JSON.parse((await kns(['get', 'pod', pod, '-o', 'json'], { allowFailure: true })).stdout || '{}').status?.phase === 'Running', 1200);
});

after(async () => {
  step('cleaning up');
  if (c) {
    await kns(['delete', 'pod', '--all', '--wait=true', '--grace-period=1'], { allowFailure: true });
    await c.stop();
    assert.deepEqual(await hostLeftovers(c), [], 'nothing of the test topology is left on the host');
  }
  if (work) await rm(work, { recursive: true, force: true });
});

/** `kubectl attach -i` to the pod's `cat`: a line written to kubectl's stdin comes back; kubectl is then stopped by its PID. */
async function attachEcho(pod: string, line: string): Promise<string> {
  const proc: ChildProcess = spawn('kubectl', ['-n', ns, 'attach', pod, '-c', 'c', '-i'], { env: c.kubectlEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  try {
    return await c.until('the attached container to echo', async () => {
      if (proc.exitCode !== null) throw new Error(`kubectl attach exited: ${out}`);
      proc.stdin!.write(`${line}\n`);
      return out.includes(line) ? out : undefined;
    }, 240);
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
  }
}

/** `kubectl port-forward pod :P`, one GET through it, then kubectl is stopped by its PID. */
async function portForwardGet(pod: string, port: number): Promise<string> {
  const proc: ChildProcess = spawn('kubectl', ['-n', ns, 'port-forward', `pod/${pod}`, `:${port}`], { env: c.kubectlEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  try {
    const local = await c.until('kubectl port-forward to listen', async () => {
      if (proc.exitCode !== null) throw new Error(`kubectl port-forward exited: ${out}`);
      return Number(out.match(/Forwarding from 127\.0\.0\.1:(\d+)/)?.[1]) || undefined;
    });
    return await new Promise<string>((resolve, reject) => {
      httpGet({ host: '127.0.0.1', port: local, path: '/' }, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => resolve(b));
      }).on('error', reject);
    });
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
  }
}

test('kubectl logs, exec, attach and port-forward reach the pods of all three nodes through their TLS endpoints', async () => {
  for (const [node, pod] of podOn) {
    assert.equal((await kns(['logs', pod])).stdout, `hello-${pod}\n`, `${node}: logs`);
    assert.equal((await kns(['exec', pod, '--', 'cat', '/www/index.html'])).stdout, `served-by-${pod}\n`, `${node}: exec`);
    assert.match(await attachEcho(pod, `ping-${node}`), new RegExp(`ping-${node}`), `${node}: attach`);
    assert.equal(await portForwardGet(pod, 8080), `served-by-${pod}\n`, `${node}: port-forward`);
  }
});

test("every node serves a certificate the cluster CA issued for its IP (openssl s_client verifies it), from a kubelet-serving CSR that is Approved,Issued", async () => {
  for (const node of c.nodes) {
    const at = endpointOf.get(node.name)!;
    assert.equal(at.host, node.ip);
    const r = await runTool('sh', ['-c', `openssl s_client -connect ${at.host}:${at.port} -CAfile ${pki('ca.crt')} -verify_ip ${at.host} -verify_return_error </dev/null 2>&1 | tee ${join(work, 's_client.out')} | openssl x509 -noout -issuer -subject -ext subjectAltName,extendedKeyUsage`]);
    const handshake = await readFile(join(work, 's_client.out'), 'utf8');
    assert.match(handshake, /Verify return code: 0 \(ok\)/, handshake);
    assert.match(r.stdout, /issuer=CN ?= ?tug-ca/);
    assert.match(r.stdout, new RegExp(`subject=O ?= ?system:nodes, CN ?= ?system:node:${node.name}`));
    assert.match(r.stdout, new RegExp(`IP Address:${node.ip.replace(/\./g, '\\.')}`));
    assert.match(r.stdout, /TLS Web Server Authentication/);
    const mine = await servingCsrs(node.name);
    assert.equal(mine.length, 1, `one serving CSR for ${node.name}`);
    const table = (await c.kubectl(['get', 'csr', mine[0].metadata.name])).stdout;
    assert.match(table, new RegExp(`kubernetes\\.io/kubelet-serving\\s+system:node:${node.name}\\s+<none>\\s+Approved,Issued`));
    assert.deepEqual([...mine[0].spec.usages].sort(), ['digital signature', 'key encipherment', 'server auth']);
    const kept = await stat(join(node.dataDir, 'kubelet-server-current.pem'));
    assert.equal(kept.mode & 0o777, 0o600);
  }
});

test('the endpoint refuses plain HTTP, a client certificate from another CA, and a caller with neither certificate nor token; the API server\'s kubelet-client certificate is served', async () => {
  await runTool('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'other.key'), '-out', join(work, 'other.crt'), '-subj', '/CN=kube-apiserver-kubelet-client', '-days', '1']);
  const other = { cert: await readFile(join(work, 'other.crt'), 'utf8'), key: await readFile(join(work, 'other.key'), 'utf8') };
  const kubeletClient = { cert: await readFile(pki('apiserver-kubelet-client.crt'), 'utf8'), key: await readFile(pki('apiserver-kubelet-client.key'), 'utf8') };
  for (const [node, pod] of podOn) {
    const at = endpointOf.get(node)!;
    const logs = `/containerLogs/${ns}/${pod}/c`;
    // Plain HTTP gets no HTTP answer at all: the TLS server drops what is not a handshake.
    await assert.rejects(
      new Promise((resolve, reject) => {
        const req = httpRequest({ host: at.host, port: at.port, path: logs }, resolve);
        req.on('error', reject);
        req.end();
      }),
      `${node}: plain HTTP`,
    );
    await assert.rejects(agentGet(at, logs, other), /socket hang up|ECONNRESET|certificate/, `${node}: a client certificate another CA signed`);
    const nobody = await agentGet(at, logs);
    assert.equal(nobody.status, 401, `${node}: no certificate, no token`);
    const served = await agentGet(at, logs, kubeletClient);
    assert.equal(served.status, 200, served.body);
    // The pod's first line (attach's echoes follow it).
    assert.match(served.body, new RegExp(`^hello-${pod}\n`));
  }
});

test('an agent restart reuses its kept serving certificate: no new CSR, the same certificate served, kubectl logs still work', async () => {
  const node: TestNode = c.nodes[0]!;
  const before = await presented(endpointOf.get(node.name)!);
  const csrs = (await servingCsrs(node.name)).length;
  step('restarting the agent');
  await c.restartAgent(node);
  step('agent restarted');
  const n = JSON.parse((await c.kubectl(['get', 'node', node.name, '-o', 'json'])).stdout);
  const at = { host: node.ip, port: n.status.daemonEndpoints.kubeletEndpoint.Port as number };
  endpointOf.set(node.name, at);
  const after = await c.until('the restarted agent to serve', async () => presented(at).catch(() => undefined)).catch((err: Error) => Promise.reject(new Error(`${err.message}\n${node.output()}`)));
  step('restarted agent serves');
  assert.equal(after.fingerprint256, before.fingerprint256);
  assert.equal(after.issuer, 'tug-ca');
  assert.equal((await servingCsrs(node.name)).length, csrs);
  const pod = podOn.get(node.name)!;
  await c.until('kubectl logs after the restart', async () => (await kns(['logs', pod], { allowFailure: true })).stdout.startsWith(`hello-${pod}\n`));
});
