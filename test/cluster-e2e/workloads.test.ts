// A single-node cluster end to end (`tug server` with its embedded agent):
// a rolling update behind a NodePort with zero failed requests, an impossible
// request left Pending with FailedScheduling, and namespace deletion that
// leaves nothing of its pods on the node (containers, mounts, netns, rules).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { runTool } from '../../src/util/exec-file.js';
import { leftovers } from '../cluster-agent/agent-cluster.js';
import { startE2eCluster, hex, type E2eCluster } from './e2e-cluster.js';

let c: E2eCluster | undefined;
const namespaces: string[] = [];

async function newNamespace(prefix: string): Promise<string> {
  const ns = `${prefix}-${hex(3)}`;
  await c!.kubectl(['create', 'namespace', ns]);
  namespaces.push(ns);
  return ns;
}

before(async () => {
  c = await startE2eCluster();
});

after(async () => {
  if (!c) return;
  for (const ns of namespaces) await c.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { allowFailure: true });
  const { dataDir, net } = c;
  await c.stop();
  assert.deepEqual(await leftovers(dataDir, net), []);
});

/** One GET on a fresh connection; resolves to the body, or to an Error (a failed request). */
function get(port: number): Promise<string | Error> {
  return new Promise((res) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 5000 }, (r) => {
      let body = '';
      r.on('data', (d: Buffer) => (body += d.toString()));
      r.on('end', () => res(r.statusCode === 200 ? body.trim() : new Error(`HTTP ${r.statusCode}`)));
      r.on('error', res);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', res);
    req.end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('rolling update (maxSurge 1, maxUnavailable 0) behind a NodePort: zero failed requests, responses switch to the new version', async (t) => {
  const ns = await newNamespace('roll');
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 10,
          containers: [
            {
              name: 'httpd',
              image: 'busybox',
              env: [{ name: 'VERSION', value: 'v1' }],
              command: ['sh', '-c', 'mkdir -p /www && echo "$VERSION" > /www/index.html && exec httpd -f -p 8080 -h /www'],
              ports: [{ containerPort: 8080, name: 'http' }],
              readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
              // As on Kubernetes: keep serving while the endpoint removal reaches the proxy.
              lifecycle: { preStop: { exec: { command: ['sleep', '3'] } } },
            },
          ],
        },
      },
    },
  };
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } };
  await c!.kubectl(['-n', ns, 'apply', '-f', '-'], { input: [deployment, service].map((o) => stringify(o)).join('---\n') });
  await c!.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=180s']);
  const nodePort = JSON.parse((await c!.kubectl(['-n', ns, 'get', 'svc', 'web', '-o', 'json'])).stdout).spec.ports[0].nodePort as number;
  await c!.until('v1 through the NodePort', async () => (await get(nodePort)) === 'v1');

  await c!.kubectl(['-n', ns, 'set', 'env', 'deployment/web', 'VERSION=v2']);
  let rolledOut: boolean | undefined;
  const status = c!.kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=180s'], { allowFailure: true }).then((r) => {
    rolledOut = r.code === 0;
    return r;
  });
  // Bounded client loop: at most 280 requests over at most 55 s, only to 127.0.0.1:nodePort.
  const responses: string[] = [];
  const failures: string[] = [];
  const started = Date.now();
  const podCount = async () => JSON.parse((await c!.kubectl(['-n', ns, 'get', 'pods', '-o', 'json'])).stdout).items.length as number;
  // Runs until the rollout is done AND the old pods have terminated (the riskiest moment).
  while (responses.length + failures.length < 280 && Date.now() - started < 55_000) {
    if (rolledOut === false || (rolledOut && (await podCount()) === 3)) break;
    const r = await get(nodePort);
    if (r instanceof Error) failures.push(`request ${responses.length + failures.length}: ${r.message}`);
    else responses.push(r);
    await sleep(150);
  }
  const st = await status;
  t.diagnostic(`during the rollout: ${responses.filter((r) => r === 'v1').length} x v1, ${responses.filter((r) => r === 'v2').length} x v2, ${failures.length} failed`);
  assert.equal(st.code, 0, `rollout status: ${st.stdout} ${st.stderr}`);
  assert.match(st.stdout, /successfully rolled out/);
  assert.deepEqual(failures, [], `failed requests during the rollout (of ${responses.length + failures.length})`);
  assert.ok(responses.includes('v2'), 'the responses switched to v2 while the client ran');
  assert.ok(responses.every((r) => r === 'v1' || r === 'v2'), `unexpected bodies: ${[...new Set(responses)].join(', ')}`);
  // Old pods finish their preStop (still serving v1, as on Kubernetes) and go; then every replica serves v2.
  await c!.until('old pods gone', async () => JSON.parse((await c!.kubectl(['-n', ns, 'get', 'pods', '-o', 'json'])).stdout).items.length === 3);
  await c!.until('the proxy sends to v2 pods only', async () => {
    for (let i = 0; i < 3; i++) if ((await get(nodePort)) !== 'v2') return false;
    return true;
  }, 60);
  // 20 more requests, bounded.
  for (let i = 0; i < 20; i++) assert.equal(await get(nodePort), 'v2', `request ${i} after the rollout`);
  const dep = JSON.parse((await c!.kubectl(['-n', ns, 'get', 'deployment', 'web', '-o', 'json'])).stdout);
  assert.equal(dep.status.updatedReplicas, 3);
  assert.equal(dep.status.readyReplicas, 3);
});

test('a pod asking for 1000 CPUs stays Pending with FailedScheduling in kubectl describe', async () => {
  const ns = await newNamespace('big');
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'huge' }, spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], resources: { requests: { cpu: '1000' } } }] } };
  await c!.kubectl(['-n', ns, 'apply', '-f', '-'], { input: JSON.stringify(pod) });
  const described = await c!.until('FailedScheduling event', async () => {
    const d = (await c!.kubectl(['-n', ns, 'describe', 'pod', 'huge'])).stdout;
    return /FailedScheduling/.test(d) ? d : undefined;
  });
  assert.match(described, /Insufficient cpu/);
  const p = JSON.parse((await c!.kubectl(['-n', ns, 'get', 'pod', 'huge', '-o', 'json'])).stdout);
  assert.equal(p.status.phase, 'Pending');
  assert.equal(p.spec.nodeName, undefined);
  assert.equal(p.status.conditions.find((x: { type: string }) => x.type === 'PodScheduled')?.reason, 'Unschedulable');
});

test('kubectl delete namespace removes its pods from the node: no container, mount, netns or iptables rule left', async () => {
  const ns = await newNamespace('gone');
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'sleeper' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'sleeper' } },
      template: { metadata: { labels: { app: 'sleeper' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], ports: [{ containerPort: 80 }] }] } },
    },
  };
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'sleeper' }, spec: { type: 'NodePort', selector: { app: 'sleeper' }, ports: [{ port: 80 }] } };
  await c!.kubectl(['-n', ns, 'apply', '-f', '-'], { input: [deployment, service].map((o) => stringify(o)).join('---\n') });
  await c!.kubectl(['-n', ns, 'rollout', 'status', 'deployment/sleeper', '--timeout=180s']);
  const pods = JSON.parse((await c!.kubectl(['-n', ns, 'get', 'pods', '-o', 'json'])).stdout).items as Array<{ metadata: { uid: string }; status: { podIP: string } }>;
  assert.equal(pods.length, 2);
  const docker = (args: string[]) => runTool('docker', ['-H', `unix://${c!.engineSocket}`, ...args]);
  const nsContainers = async () => (await docker(['ps', '-a', '-q', '--no-trunc', '--filter', `label=io.kubernetes.pod.namespace=${ns}`])).stdout.split('\n').filter(Boolean);
  const before = await nsContainers();
  assert.ok(before.length >= 2, `containers of ${ns} in the node engine: ${before.length}`);
  const ips = pods.map((p) => p.status.podIP);
  const uids = pods.map((p) => p.metadata.uid);
  const rulesOf = async () => (await runTool('iptables-save', [])).stdout.split('\n').filter((l) => ips.some((ip) => new RegExp(`[^0-9]${ip.replaceAll('.', '\\.')}[^0-9]`).test(`${l} `)) || l.includes(`${ns}/sleeper`));
  assert.ok((await rulesOf()).length > 0, 'the service proxy wrote rules for the pods');

  await c!.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s']);
  namespaces.splice(namespaces.indexOf(ns), 1);
  assert.deepEqual(await nsContainers(), []);
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const stale = mountinfo.split('\n').filter((l) => before.some((id) => l.includes(id)) || uids.some((u) => l.includes(u)));
  assert.deepEqual(stale, []);
  const netns = (await runTool('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => before.some((id) => l.includes(id.slice(0, 12))) || uids.some((u) => l.includes(u)));
  assert.deepEqual(netns, []);
  await c!.until('the proxy dropped the rules of the namespace', async () => (await rulesOf()).length === 0, 60);
});
