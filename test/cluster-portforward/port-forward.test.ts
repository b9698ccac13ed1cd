// kubectl port-forward against a real `tug server` with its embedded node
// agent: a busybox httpd pod, the local port kubectl picks, sequential and
// concurrent HTTP fetches through the SPDY session, a port nobody listens on
// (kubectl reports the agent's error and the session keeps forwarding), and
// nothing left behind (kubectl killed by its PID, pods deleted, server stopped).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { connect } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { startAgentCluster, leftovers, suffix, type AgentCluster } from '../cluster-agent/agent-cluster.js';

let c: AgentCluster;
let ns: string;
const kubectls: ChildProcess[] = [];

before(async () => {
  c = await startAgentCluster();
  ns = `pf-${suffix()}`;
  await c.kubectl(['create', 'namespace', ns]);
});

after(async () => {
  if (!c) return;
  for (const k of kubectls) await stopKubectl(k);
  await c.kubectl(['-n', ns, 'delete', 'pods', '--all', '--grace-period=1'], { allowFailure: true });
  await c.kubectl(['delete', 'namespace', ns, '--wait=false'], { allowFailure: true });
  const { dataDir, net } = c;
  await c.stop();
  assert.deepEqual(await leftovers(dataDir, net), []);
});

async function stopKubectl(k: ChildProcess): Promise<void> {
  if (k.exitCode !== null || k.signalCode !== null) return;
  const exited = new Promise<void>((r) => k.once('exit', () => r()));
  k.kill('SIGTERM');
  await exited;
}

interface Forward {
  proc: ChildProcess;
  output: () => string;
  /** remote port → the local port kubectl chose for it */
  local: Map<number, number>;
}

/** Starts `kubectl port-forward pod/NAME :P...` and waits for its "Forwarding from 127.0.0.1:L -> P" lines. */
async function portForward(pod: string, ports: number[], flags: string[] = [], env: Record<string, string> = {}): Promise<Forward> {
  const proc = spawn('kubectl', [...flags, '-n', ns, 'port-forward', `pod/${pod}`, ...ports.map((p) => `:${p}`)], { env: { ...c.kubectlEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  kubectls.push(proc);
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const local = new Map<number, number>();
  await c.until('kubectl port-forward to listen', async () => {
    if (proc.exitCode !== null) throw new Error(`kubectl port-forward exited: ${out}`);
    for (const m of out.matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/g)) local.set(Number(m[2]), Number(m[1]));
    return local.size === ports.length;
  });
  return { proc, output: () => out, local };
}

/** Sends bytes on a fresh connection, half-closes it, and returns everything that came back. */
function echoLocal(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    sock.on('data', (b: Buffer) => chunks.push(b));
    sock.on('end', () => {
      sock.end();
      resolve(Buffer.concat(chunks));
    });
    sock.on('error', reject);
    sock.end(payload);
  });
}

/** GET http://127.0.0.1:port/ on a fresh connection: status and body, or the socket error. */
function fetchLocal(port: number, path = '/'): Promise<{ status: number; body: string; raw: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, body: raw.toString('utf8'), raw });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

const marker = `hello-from-${suffix()}`;

async function startWebPod(): Promise<void> {
  const manifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web' },
    spec: {
      nodeName: c.nodeName,
      terminationGracePeriodSeconds: 1,
      // big.bin (2 MiB) is far past SPDY's 64 KiB initial window: it takes many DATA frames.
      containers: [{ name: 'httpd', image: 'busybox', command: ['sh', '-c', `mkdir -p /www && echo ${marker} > /www/index.html && head -c 2097152 /dev/urandom > /www/big.bin && sha256sum /www/big.bin > /www/big.sha && exec httpd -f -p 8080 -h /www`] },
        // An echo server on 9000: what kubectl uploads comes back, so the kubectl -> pod direction is checked too.
        { name: 'echo', image: 'busybox', command: ['nc', '-ll', '-p', '9000', '-e', 'cat'] },
      ],
    },
  };
  await c.kubectl(['-n', ns, 'apply', '-f', '-'], { input: JSON.stringify(manifest) });
  await c.until('pod web Running', async () => {
    const p = JSON.parse((await c.kubectl(['-n', ns, 'get', 'pod', 'web', '-o', 'json'])).stdout);
    return p.status?.phase === 'Running' && p.status.containerStatuses?.every((x: any) => x.state.running) && p.status.podIP;
  });
}

/** Runs fn, adding kubectl's own output to any failure: its words are the best clue when a forward breaks. */
async function withOutput(fw: Forward, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    throw new Error(`${(err as Error).message}\nkubectl port-forward said:\n${fw.output()}`);
  }
}

async function fetchesWork(port: number): Promise<void> {
  // httpd may need a moment after the container starts: the first fetch is retried (bounded by count).
  await c.until('httpd to answer through the forward', async () => (await fetchLocal(port).catch(() => undefined))?.status === 200);
  for (let i = 0; i < 5; i++) {
    const r = await fetchLocal(port);
    assert.deepEqual([r.status, r.body.trim()], [200, marker]);
  }
  const concurrent = await Promise.all([fetchLocal(port), fetchLocal(port), fetchLocal(port)]);
  for (const r of concurrent) assert.deepEqual([r.status, r.body.trim()], [200, marker]);
  const [big, sum] = await Promise.all([fetchLocal(port, '/big.bin'), fetchLocal(port, '/big.sha')]);
  assert.equal(big.raw.length, 2 * 1024 * 1024);
  assert.equal(createHash('sha256').update(big.raw).digest('hex'), sum.body.split(' ')[0]);
}

async function echoWorks(port: number): Promise<void> {
  const payload = randomBytes(1024 * 1024);
  const back = await c.until('the echo server to answer through the forward', async () => {
    const b = await echoLocal(port, payload).catch(() => undefined);
    return b && b.length > 0 ? b : undefined;
  });
  assert.equal(back.length, payload.length);
  assert.ok(back.equals(payload));
}

test('kubectl port-forward (websocket tunnel, kubectl 1.32 default) reaches a pod httpd: sequential and concurrent fetches, 2 MiB down, 1 MiB echoed up', async () => {
  await startWebPod();
  // -v=4 makes kubectl say which dialer it used.
  const fw = await portForward('web', [8080, 9000], ['-v=4']);
  await withOutput(fw, async () => {
    assert.ok(fw.local.get(8080)! > 0);
    await fetchesWork(fw.local.get(8080)!);
    await echoWorks(fw.local.get(9000)!);
    assert.match(fw.output(), /negotiated protocol: portforward\.k8s\.io/);
    assert.doesNotMatch(fw.output(), /fallback to secondary dialer/);
    assert.equal(fw.proc.exitCode, null);
  });
  await stopKubectl(fw.proc);
});

test('kubectl port-forward over a plain SPDY/3.1 upgrade (websockets off) works the same', async () => {
  // -v=6 logs each request: the upgrade is kubectl's SPDY POST, answered 101.
  const fw = await portForward('web', [8080, 9000], ['-v=6'], { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' });
  await withOutput(fw, async () => {
    await fetchesWork(fw.local.get(8080)!);
    await echoWorks(fw.local.get(9000)!);
    assert.match(fw.output(), /POST https:\/\/\S+\/portforward 101 Switching Protocols/);
    assert.doesNotMatch(fw.output(), /negotiated protocol/);
  });
  await stopKubectl(fw.proc);
});

test('a port nobody listens on: kubectl prints the agent error (and, as kubectl 1.32 does with a kubelet, ends that session); the next session works', async () => {
  const fw = await portForward('web', [8080, 9999]);
  await withOutput(fw, async () => {
    const r = await fetchLocal(fw.local.get(8080)!);
    assert.deepEqual([r.status, r.body.trim()], [200, marker]);
    await assert.rejects(fetchLocal(fw.local.get(9999)!));
    await c.until('kubectl to report the refused port', async () => /error forwarding port 9999 to pod/.test(fw.output()));
    assert.match(fw.output(), /dial tcp [\d.]+:9999: connect: connection refused/);
  });
  await stopKubectl(fw.proc);
  const next = await portForward('web', [8080]);
  await withOutput(next, async () => {
    const r = await fetchLocal(next.local.get(8080)!);
    assert.deepEqual([r.status, r.body.trim()], [200, marker]);
  });
  await stopKubectl(next.proc);
  await c.kubectl(['-n', ns, 'delete', 'pod', 'web', '--grace-period=1']);
});
