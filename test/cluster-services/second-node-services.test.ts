// Services and cluster DNS for pods on a standalone `tug agent` (a second node
// on this machine, own bridge and pod range): a client pod bound to the second
// node resolves a Service by its short, namespaced and full names through the
// server's kube-dns Service, reaches backends on both nodes through the
// ClusterIP, and the Service's NodePort answers on 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { stringify } from 'yaml';
import type { RunResult } from '../../src/util/exec-file.js';
import { fetchInPod as fetchFromClient, httpGet } from './service-http.js';
import { startAgentCluster, leftovers, suffix, type AgentCluster, type AgentProc } from '../cluster-agent/agent-cluster.js';

let c: AgentCluster | undefined;
let second: AgentProc | undefined;
const ns = `sn-${suffix()}`;
const secondNode = `svc-second-${suffix()}`;
// Its own service range (outside the pod ranges 10.160-249.x.0/24 and the default 10.96.0.0/12).
const serviceCidr = `10.${randomInt(112, 160)}.${randomInt(0, 256)}.0/24`;

const kns = (args: string[], opts: { input?: string; allowFailure?: boolean } = {}): Promise<RunResult> => c!.kubectl(['-n', ns, ...args], opts);

const backend = (name: string, nodeName: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'web' } },
  spec: {
    nodeName,
    terminationGracePeriodSeconds: 1,
    containers: [{ name: 'httpd', image: 'busybox', command: ['sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www'], ports: [{ containerPort: 8080, name: 'http' }], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }],
  },
});

/** One HTTP/1.0 GET from the client pod on the second node. */
const fetchInPod = (host: string, port = 80): Promise<RunResult> => fetchFromClient(kns, 'client', host, port);

before(async () => {
  c = await startAgentCluster({ serviceCidr });
  second = await c.startAgent(secondNode);
  await c.kubectl(['create', 'namespace', ns]);
  const objects = [
    backend('web-first', c.nodeName),
    backend('web-second', secondNode),
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client' }, spec: { nodeName: secondNode, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } },
  ];
  await kns(['apply', '-f', '-'], { input: objects.map((o) => stringify(o)).join('---\n') });
  await c.until('two ready web endpoints and a running client', async () => {
    const ep = JSON.parse((await kns(['get', 'endpoints', 'web', '-o', 'json'], { allowFailure: true })).stdout || '{}');
    const client = JSON.parse((await kns(['get', 'pod', 'client', '-o', 'json'], { allowFailure: true })).stdout || '{}');
    return ep.subsets?.[0]?.addresses?.length === 2 && client.status?.phase === 'Running';
  });
  // Cluster DNS is eventually ready, as CoreDNS is: the first node's DNS server binds its bridge gateway
  // once that address exists (polled each second). Wait for any answer before the test asserts names.
  await c.until('cluster DNS answers the client pod on the second node', async () => (await kns(['exec', 'client', '--', 'nslookup', 'kubernetes.default.svc.cluster.local'], { allowFailure: true })).stdout.includes('Name:'));
});

after(async () => {
  if (c) {
    await c.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { allowFailure: true });
    if (second) {
      const s = second;
      await c.until('no pods left on the second node', async () => (await c!.kubectl(['get', 'pods', '-A', '--field-selector', `spec.nodeName=${secondNode}`, '-o', 'name'])).stdout.trim() === '', 120).catch(() => undefined);
      await s.proc.stop();
      assert.deepEqual(await leftovers(s.dataDir, s.net), [], 'the second agent left nothing behind');
    }
    await c.stop();
  }
});

test('a pod on the second node resolves the Service by short, namespaced and full name and reaches backends on both nodes', async () => {
  const dnsIp = JSON.parse((await c!.kubectl(['-n', 'kube-system', 'get', 'svc', 'kube-dns', '-o', 'json'])).stdout).spec.clusterIP;
  const resolvConf = (await kns(['exec', 'client', '--', 'cat', '/etc/resolv.conf'])).stdout;
  assert.match(resolvConf, new RegExp(`nameserver ${dnsIp.replaceAll('.', '\\.')}`));
  assert.match(resolvConf, new RegExp(`search ${ns}\\.svc\\.cluster\\.local svc\\.cluster\\.local cluster\\.local`));
  const svc = JSON.parse((await kns(['get', 'svc', 'web', '-o', 'json'])).stdout);
  const lookup = await kns(['exec', 'client', '--', 'nslookup', `web.${ns}.svc.cluster.local`], { allowFailure: true });
  assert.match(lookup.stdout, new RegExp(`Address: ${svc.spec.clusterIP.replaceAll('.', '\\.')}`), lookup.stdout + lookup.stderr);
  for (const name of ['web', `web.${ns}`, `web.${ns}.svc.cluster.local`, svc.spec.clusterIP]) {
    const r = await fetchInPod(name);
    assert.match(r.stdout.trim(), /^web-(first|second)$/, `${name}: ${r.stdout} ${r.stderr}`);
  }
  const seen = new Set<string>();
  // Two endpoints chosen at random with p=1/2: 16 requests all to one has odds 2^-15.
  for (let i = 0; i < 16; i++) {
    const r = await fetchInPod('web');
    assert.match(r.stdout.trim(), /^web-(first|second)$/, `request ${i}: ${r.stdout} ${r.stderr}`);
    seen.add(r.stdout.trim());
  }
  assert.deepEqual([...seen].sort(), ['web-first', 'web-second']);
});

test("the Service's NodePort answers on 127.0.0.1", async () => {
  const svc = JSON.parse((await kns(['get', 'svc', 'web', '-o', 'json'])).stdout);
  const seen = new Set<string>();
  for (let i = 0; i < 16; i++) seen.add(await httpGet('127.0.0.1', svc.spec.ports[0].nodePort));
  assert.deepEqual([...seen].sort(), ['web-first', 'web-second']);
});
