// The node agents' streaming endpoint (the kubelet API role, HTTPS only) checks every
// caller as the kubelet does: no client certificate and no or an unknown bearer token → 401, a user the API
// server vouches for but without nodes/proxy on the node → 403, a user bound
// to system:kubelet-api-admin → served. kubectl logs/exec/attach/port-forward
// keep working through the API server (its kubelet-client certificate), for the
// server's embedded agent and for a standalone `tug agent`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startAgentCluster, leftovers, suffix, type AgentCluster, type AgentProc } from './agent-cluster.js';

let c: AgentCluster;
let second: AgentProc | undefined;
const ns = `auth-${suffix()}`;
const secondNode = `auth-second-${suffix()}`;
/** node name → its agent's streaming port */
/** Each node's streaming endpoint: its InternalIP (agents listen on the node's address) and port. */
const agentPorts = new Map<string, { host: string; port: number }>();
const podOn = new Map<string, string>();

const podJson = (name: string, nodeName: string) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', stdin: true, command: ['sh', '-c', `echo hello-${name}; mkdir -p /www && echo served-by-${name} > /www/index.html && httpd -p 8080 -h /www && exec cat`] }] },
  });

interface Answer {
  status: number;
  body: string;
}

/** One request straight to an agent (not through the API server; HTTPS, its certificate verified against the cluster CA); `upgrade` asks for a websocket as kubectl exec does. */
async function agentRequest(at: { host: string; port: number }, path: string, token?: string, upgrade = false): Promise<Answer> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (upgrade) Object.assign(headers, { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'v4.channel.k8s.io' });
  const ca = await readFile(join(c.dataDir, 'pki', 'ca.crt'), 'utf8');
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: at.host, port: at.port, path, headers, ca, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      // A follow-less log read ends by itself; nothing here streams forever.
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('error', reject);
    req.end();
  });
}

/** POST to the API server with a bearer token (the cluster CA verifies it). */
async function apiPost(path: string, token: string, body: object): Promise<Answer> {
  const ca = await readFile(join(c.dataDir, 'pki', 'ca.crt'), 'utf8');
  const url = new URL(path, c.url);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'POST', ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      let b = '';
      res.on('data', (d: Buffer) => (b += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const saToken = async (name: string): Promise<string> => {
  await c.kubectl(['-n', ns, 'create', 'serviceaccount', name]);
  return (await c.kubectl(['-n', ns, 'create', 'token', name])).stdout.trim();
};

before(async () => {
  c = await startAgentCluster();
  second = await c.startAgent(secondNode);
  await c.kubectl(['create', 'namespace', ns]);
  for (const node of [c.nodeName, secondNode]) {
    const pod = `p-${suffix()}`;
    podOn.set(node, pod);
    await c.kubectl(['apply', '-f', '-'], { input: podJson(pod, node) });
    const n = JSON.parse((await c.kubectl(['get', 'node', node, '-o', 'json'])).stdout);
    agentPorts.set(node, { host: n.status.addresses.find((a: { type: string }) => a.type === 'InternalIP').address, port: n.status.daemonEndpoints.kubeletEndpoint.Port });
  }
  for (const pod of podOn.values()) {
    await c.until(`${pod} Running`, async () => JSON.parse((await c.kubectl(['-n', ns, 'get', 'pod', pod, '-o', 'json'])).stdout).status?.phase === 'Running');
  }
});

after(async () => {
  if (!c) return;
  await c.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { allowFailure: true });
  await c.kubectl(['delete', 'clusterrolebinding', `${ns}-kubelet-api`], { allowFailure: true });
  if (second) {
    await second.proc.stop();
    assert.deepEqual(await leftovers(second.dataDir, second.net), []);
  }
  const { dataDir, net } = c;
  await c.stop();
  assert.deepEqual(await leftovers(dataDir, net), []);
});

test('direct requests to an agent: no token or an unknown one → 401; a user without nodes/proxy → 403; a kubelet-api-admin → served', async () => {
  const nobody = await saToken('nobody');
  const admin = await saToken('kubelet-api');
  await c.kubectl(['create', 'clusterrolebinding', `${ns}-kubelet-api`, '--clusterrole=system:kubelet-api-admin', `--serviceaccount=${ns}:kubelet-api`]);
  for (const [node, port] of agentPorts) {
    const pod = podOn.get(node)!;
    const logs = `/containerLogs/${ns}/${pod}/c`;
    const exec = `/exec/${ns}/${pod}/c?command=true&stdout=true`;
    for (const upgrade of [false, true]) {
      const path = upgrade ? exec : logs;
      assert.equal((await agentRequest(port, path, undefined, upgrade)).status, 401, `${node} ${path} without a token`);
      assert.equal((await agentRequest(port, path, 'not-a-token', upgrade)).status, 401, `${node} ${path} with an unknown token`);
      const denied = await agentRequest(port, path, nobody, upgrade);
      assert.equal(denied.status, 403, `${node} ${path} as a user without nodes/proxy`);
    }
    const forbidden = await agentRequest(port, logs, nobody);
    assert.match(forbidden.body, new RegExp(`user=system:serviceaccount:${ns}:nobody, verb=get, resource=nodes, subresource\\(s\\)=\\[proxy\\]`));
    const served = await agentRequest(port, logs, admin);
    assert.equal(served.status, 200, served.body);
    assert.equal(served.body, `hello-${pod}\n`);
    assert.equal((await agentRequest(port, exec, admin, true)).status, 101, `${node}: exec upgrade as a kubelet-api-admin`);
  }
  // Asking the API server who a token is, is itself guarded (system:auth-delegator).
  const review = await apiPost('/apis/authentication.k8s.io/v1/tokenreviews', nobody, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: admin } });
  assert.equal(review.status, 403, review.body);
  const byAdmin = await apiPost('/apis/authentication.k8s.io/v1/tokenreviews', c.token, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: admin } });
  assert.equal(byAdmin.status, 201, byAdmin.body);
  assert.deepEqual(JSON.parse(byAdmin.body).status.user.username, `system:serviceaccount:${ns}:kubelet-api`);
  const unknown = await apiPost('/apis/authentication.k8s.io/v1/tokenreviews', c.token, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'not-a-token' } });
  assert.equal(JSON.parse(unknown.body).status.authenticated, false);
});

test('kubectl logs, exec, attach and port-forward go through the API server to both agents', async () => {
  for (const [node, pod] of podOn) {
    assert.equal((await c.kubectl(['-n', ns, 'logs', pod])).stdout, `hello-${pod}\n`, `${node}: logs`);
    assert.equal((await c.kubectl(['-n', ns, 'exec', pod, '--', 'cat', '/www/index.html'])).stdout, `served-by-${pod}\n`, `${node}: exec`);
    assert.match(await attachEcho(pod, `ping-${node}`), new RegExp(`ping-${node}`), `${node}: attach`);
    const body = await portForwardGet(pod, 8080);
    assert.equal(body, `served-by-${pod}\n`, `${node}: port-forward`);
  }
});

/** `kubectl attach -i` to the pod's `cat`: a line written to kubectl's stdin comes back on its stdout; kubectl is then stopped by its PID. */
async function attachEcho(pod: string, line: string): Promise<string> {
  const proc: ChildProcess = spawn('kubectl', ['-n', ns, 'attach', pod, '-c', 'c', '-i'], { env: c.kubectlEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  try {
    // Repeat the line until it echoes: what is written before the stream is up is not delivered.
    return await c.until('the attached container to echo', async () => {
      if (proc.exitCode !== null) throw new Error(`kubectl attach exited: ${out}`);
      proc.stdin!.write(`${line}\n`);
      return out.includes(line) ? out : undefined;
    }, 60);
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
      get({ host: '127.0.0.1', port: local, path: '/' }, (res) => {
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
