// The README's cluster quick start, minus the fixed paths and port that
// scripts/cluster-up.sh uses on a real machine: examples/web.yaml applied to a
// fresh `tug server` rolls out and answers on its NodePort on 127.0.0.1 and on
// the node's address. Also: the node's Lease is renewed (heartbeat), and the
// service and pod ranges are routed onto the pod bridge, never via the default
// route, even for addresses no rule or pod claims.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { runTool } from '../../src/util/exec-file.js';
import { leftovers } from '../cluster-agent/agent-cluster.js';
import { startE2eCluster, hex, type E2eCluster } from './e2e-cluster.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
let c: E2eCluster | undefined;
const ns = `quick-${hex(3)}`;

before(async () => {
  c = await startE2eCluster();
  await c.kubectl(['create', 'namespace', ns]);
});

after(async () => {
  if (!c) return;
  await c.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { allowFailure: true });
  const { dataDir, net } = c;
  await c.stop();
  assert.deepEqual(await leftovers(dataDir, net), []);
});

function get(host: string, port: number): Promise<string> {
  return new Promise((res, rej) => {
    const req = request({ host, port, path: '/', agent: false, timeout: 5000 }, (r) => {
      let body = '';
      r.on('data', (d: Buffer) => (body += d.toString()));
      r.on('end', () => (r.statusCode === 200 ? res(body.trim()) : rej(new Error(`HTTP ${r.statusCode}`))));
      r.on('error', rej);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', rej);
    req.end();
  });
}

test('examples/web.yaml (the README quick start) rolls out and answers on its NodePort on 127.0.0.1 and on the node address, from both replicas', async () => {
  const docs = parseAllDocuments(await readFile(join(repoRoot, 'examples', 'web.yaml'), 'utf8')).map((d) => d.toJS());
  assert.deepEqual(docs.map((d) => d.kind), ['Deployment', 'Service']);
  // The example pins nodePort 30080 for people; a test lets the server pick one so it can run beside others.
  for (const p of docs[1].spec.ports) delete p.nodePort;
  await c!.kubectl(['-n', ns, 'apply', '-f', '-'], { input: docs.map((d) => stringify(d)).join('---\n') });
  const r = await c!.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=180s']);
  assert.match(r.stdout, /successfully rolled out/);
  const svc = JSON.parse((await c!.kubectl(['-n', ns, 'get', 'service', 'web', '-o', 'json'])).stdout);
  const nodePort: number = svc.spec.ports[0].nodePort;
  assert.ok(nodePort >= c!.nodePortRange[0] && nodePort <= c!.nodePortRange[1], `nodePort ${nodePort} in ${c!.nodePortRange.join('-')}`);
  const node = JSON.parse((await c!.kubectl(['get', 'nodes', '-o', 'json'])).stdout).items[0];
  const nodeIp: string = node.status.addresses.find((a: { type: string }) => a.type === 'InternalIP').address;
  const pods = JSON.parse((await c!.kubectl(['-n', ns, 'get', 'pods', '-l', 'app=web', '-o', 'json'])).stdout).items.map((p: any) => p.metadata.name);
  assert.equal(pods.length, 2);
  // Fresh connections are spread over both replicas; keep asking (bounded) until each has answered, on both addresses.
  for (const host of ['127.0.0.1', nodeIp]) {
    const seen = new Set<string>();
    for (let i = 0; i < 60 && seen.size < 2; i++) {
      const body = await get(host, nodePort);
      assert.match(body, /^hello from pod web-/);
      seen.add(body.replace('hello from pod ', ''));
    }
    assert.deepEqual([...seen].sort(), [...pods].sort(), `${host}:${nodePort} reached both replicas`);
  }
});

test("the node's Lease is renewed by the agent's heartbeat", async () => {
  const node = JSON.parse((await c!.kubectl(['get', 'nodes', '-o', 'json'])).stdout).items[0].metadata.name;
  const renewTime = async (): Promise<string> => JSON.parse((await c!.kubectl(['-n', 'kube-node-lease', 'get', 'lease', node, '-o', 'json'])).stdout).spec.renewTime;
  const first = await renewTime();
  const next = await c!.until('a later renewTime', async () => {
    const t = await renewTime();
    return t !== first ? t : undefined;
  });
  assert.ok(Date.parse(next) > Date.parse(first), `${next} after ${first}`);
});

test('addresses of the service and pod ranges that nothing claims still route onto the pod bridge, never via the default route', async () => {
  const [a, b, cc] = c!.serviceCidr.split('.');
  const unusedService = `${a}.${b}.${cc}.254`;
  const [p1, p2, p3] = c!.net.cidr.split('.');
  const unusedPod = `${p1}.${p2}.${p3}.254`;
  for (const ip of [unusedService, unusedPod]) {
    const route = (await runTool('ip', ['route', 'get', ip])).stdout;
    assert.match(route, new RegExp(`dev ${c!.net.bridge}\\b`), `${ip}: ${route}`);
    assert.doesNotMatch(route, / via /, `${ip}: ${route}`);
  }
});
