// Services end to end on a real `tug server` with its embedded node agent:
// busybox httpd pods behind a NodePort Service, reached from a client pod by
// ClusterIP through the cluster DNS names, spread over both endpoints; the
// NodePort from the host on 127.0.0.1 and on the node IP; a Service without
// ready endpoints refuses; deleting a Service removes its rules; the service
// CIDR never routes via the default route; nothing is left after the server stops.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { randomBytes, randomInt, createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { runTool, type RunResult } from '../../src/util/exec-file.js';
import { withOwnNodePorts } from '../helpers/node-port-range.js';
import { fetchInPod as fetchFromClient, httpGet } from './service-http.js';
import { until as untilShared, type UntilOptions } from '../helpers/until.js';

const tugBin = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../..'), 'bin', 'tug');
const hex = (n: number): string => randomBytes(n).toString('hex');

let dataDir: string;
let child: ChildProcess | undefined;
let out = '';
let exited: Promise<void>;
const bridge = `tsv${hex(4)}`;
const octet = randomInt(160, 250);
const third = randomInt(0, 255);
const podCidr = `10.${octet}.${third}.0/24`;
const serviceCidr = `10.${octet}.${third + 1}.0/24`;
const tag = createHash('sha256').update(bridge).digest('hex').slice(0, 6).toUpperCase();
const ns = `svc-${hex(3)}`;
let env: NodeJS.ProcessEnv;

const kubectl = (args: string[], opts: { input?: string; allowFailure?: boolean } = {}): Promise<RunResult> => runTool('kubectl', args, { env, input: opts.input, allowFailure: opts.allowFailure });
const kns = (args: string[], opts: { input?: string; allowFailure?: boolean } = {}): Promise<RunResult> => kubectl(['-n', ns, ...args], opts);

const until = <T>(what: string, fn: () => Promise<T | undefined | false>, o: UntilOptions = {}): Promise<T> => untilShared(what, fn, { everyMs: 500, context: () => out.slice(-2000), ...o });

const natRules = async (): Promise<string[]> => (await runTool('iptables-save', [])).stdout.split('\n').filter((l) => l.includes(tag));

const fetchInPod = (host: string, port = 80): Promise<RunResult> => fetchFromClient(kns, 'client', host, port);

const app = (name: string): object[] => [
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'httpd', image: 'busybox', command: ['sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www'], ports: [{ containerPort: 8080, name: 'http' }] }] },
      },
    },
  },
  { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { type: 'NodePort', selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client' }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] } },
];

/** Deletes this test's pods (so the agent can remove the bridge), then stops the server by its PID. */
async function stopServer(): Promise<void> {
  if (!child) return;
  if (child.exitCode === null && /node agent registered/.test(out)) {
    await kubectl(['delete', 'namespace', ns, '--wait=false'], { allowFailure: true });
    await kns(['delete', 'deployment', 'web'], { allowFailure: true });
    await kns(['delete', 'pods', '--all', '--grace-period=1'], { allowFailure: true });
    await until('pods gone', async () => (await kns(['get', 'pods', '-o', 'name'], { allowFailure: true })).stdout.trim() === '' || child?.exitCode !== null, { tries: 120 }).catch(() => undefined);
  }
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const t = setTimeout(() => child?.kill('SIGKILL'), 60_000);
  await exited;
  clearTimeout(t);
  child = undefined;
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tug-svc-test-'));
  env = { ...process.env, KUBECONFIG: join(dataDir, 'kubeconfig'), KUBECACHEDIR: join(dataDir, 'kubectl-cache') };
  // NodePorts of its own (test/helpers/node-port-range.ts): drawn again if another live cluster holds them.
  await withOwnNodePorts(async (ports) => {
    out = '';
    const c = spawn(process.execPath, [tugBin, 'server', '--data-dir', dataDir, '--port', '0', '--ui-addr', '127.0.0.1:0', '--node-name', `svc-node-${hex(3)}`, '--node-bridge', bridge, '--pod-cidr', podCidr, '--service-cidr', serviceCidr, ...ports.flags], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    exited = new Promise((r) => c.once('exit', () => r()));
    c.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    c.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    await until('tug server', async () => /node agent registered node/.test(out) || (c.exitCode !== null && Promise.reject(new Error(out))), { tries: 180 });
  });
  await kubectl(['create', 'namespace', ns]);
  await kns(['apply', '-f', '-'], { input: app('web').map((o) => stringify(o)).join('---\n') });
  await until('web endpoints and client', async () => {
    const ep = JSON.parse((await kns(['get', 'endpoints', 'web', '-o', 'json'], { allowFailure: true })).stdout || '{}');
    const client = JSON.parse((await kns(['get', 'pod', 'client', '-o', 'json'], { allowFailure: true })).stdout || '{}');
    return ep.subsets?.[0]?.addresses?.length === 2 && client.status?.phase === 'Running';
  });
});

after(async () => {
  await stopServer();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('ClusterIP by DNS name (short, .ns, FQDN) from a pod, spread over both endpoints', async () => {
  const resolvConf = (await kns(['exec', 'client', '--', 'cat', '/etc/resolv.conf'])).stdout;
  assert.match(resolvConf, new RegExp(`search ${ns}\\.svc\\.cluster\\.local svc\\.cluster\\.local cluster\\.local`));
  assert.match(resolvConf, /options ndots:5/);
  const svc = JSON.parse((await kns(['get', 'svc', 'web', '-o', 'json'])).stdout);
  const dnsIp = JSON.parse((await kubectl(['-n', 'kube-system', 'get', 'svc', 'kube-dns', '-o', 'json'])).stdout).spec.clusterIP;
  assert.match(resolvConf, new RegExp(`nameserver ${dnsIp.replaceAll('.', '\\.')}`));
  const seen = new Set<string>();
  // Two endpoints chosen at random with p=1/2: 16 requests all to one has odds 2^-15.
  for (let i = 0; i < 16; i++) {
    const r = await fetchInPod('web');
    assert.match(r.stdout.trim(), /^web-/, `request ${i}: ${r.stdout} ${r.stderr}`);
    seen.add(r.stdout.trim());
  }
  assert.equal(seen.size, 2, `hostnames seen: ${[...seen].join(', ')}`);
  for (const name of [`web.${ns}`, `web.${ns}.svc.cluster.local`, svc.spec.clusterIP]) {
    const r = await fetchInPod(name);
    assert.match(r.stdout.trim(), /^web-/, `${name}: ${r.stdout} ${r.stderr}`);
  }
  const lookup = await kns(['exec', 'client', '--', 'nslookup', `web.${ns}.svc.cluster.local`], { allowFailure: true });
  assert.match(lookup.stdout, new RegExp(`Address: ${svc.spec.clusterIP.replaceAll('.', '\\.')}`));
  const nx = await kns(['exec', 'client', '--', 'nslookup', `nosuch.${ns}.svc.cluster.local`], { allowFailure: true });
  assert.match(nx.stdout + nx.stderr, /NXDOMAIN/);
});

test('NodePort from the host on 127.0.0.1 and on the node IP; ClusterIP from the host; the service CIDR stays on the bridge', async () => {
  const svc = JSON.parse((await kns(['get', 'svc', 'web', '-o', 'json'])).stdout);
  const nodePort: number = svc.spec.ports[0].nodePort;
  const node = JSON.parse((await kubectl(['get', 'nodes', '-o', 'json'])).stdout).items[0];
  const nodeIp: string = node.status.addresses.find((a: any) => a.type === 'InternalIP').address;
  assert.match(await httpGet('127.0.0.1', nodePort), /^web-/);
  assert.match(await httpGet(nodeIp, nodePort), /^web-/);
  assert.match(await httpGet(svc.spec.clusterIP, 80), /^web-/);
  const route = (await runTool('ip', ['route', 'get', svc.spec.clusterIP])).stdout;
  assert.match(route, new RegExp(`dev ${bridge}`));
  assert.doesNotMatch(route, / via /);
});

test('a Service without ready endpoints refuses; ClientIP affinity sticks; deleting a Service removes its rules', async () => {
  await kns(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'empty' }, spec: { selector: { app: 'nothing' }, ports: [{ port: 80 }] } }) });
  await until('REJECT rule for empty', async () => (await natRules()).some((l) => l.includes(`${ns}/empty`) && l.includes('REJECT')));
  const r = await fetchInPod(`empty.${ns}`);
  assert.match(r.stderr, /Connection refused/, r.stderr);

  await kns(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'twin' }, spec: { sessionAffinity: 'ClientIP', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } }) });
  await until('DNAT rules for twin', async () => (await natRules()).some((l) => l.includes(`${ns}/twin`) && l.includes('DNAT')));
  // sessionAffinity ClientIP: every request from the client pod lands on the same endpoint.
  const twinSeen = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const r = await fetchInPod(`twin.${ns}`);
    assert.match(r.stdout.trim(), /^web-/, r.stderr);
    twinSeen.add(r.stdout.trim());
  }
  assert.equal(twinSeen.size, 1, `affinity broken: ${[...twinSeen].join(', ')}`);
  await kns(['delete', 'svc', 'twin', 'empty']);
  await until('twin and empty rules gone', async () => !(await natRules()).some((l) => l.includes(`${ns}/twin`) || l.includes(`${ns}/empty`)));
  assert.match((await fetchInPod('web')).stdout.trim(), /^web-/, 'the other Service still works');
});

test('stopping the server leaves no chains, routes, bridge or containers', async () => {
  await stopServer();
  assert.deepEqual(await natRules(), []);
  const routes = (await runTool('ip', ['route', 'show'])).stdout.split('\n').filter((l) => l.includes(bridge) || l.startsWith(serviceCidr));
  assert.deepEqual(routes, []);
  assert.notEqual((await runTool('ip', ['link', 'show', bridge], { allowFailure: true })).code, 0, 'bridge removed');
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => l.includes(dataDir));
  assert.deepEqual(mounts, []);
});
