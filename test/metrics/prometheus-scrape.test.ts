// A real Prometheus (Debian's prometheus) scrapes every /metrics tug serves:
// the API server (HTTPS, a ServiceAccount bound to system:monitoring), the
// embedded node agent's /metrics and /metrics/cadvisor (HTTPS only, its serving
// certificate verified against the cluster CA and the node's IP; the same
// ServiceAccount's bearer token, allowed nodes/metrics), a
// `tug daemon --metrics-addr` and a `tug registry serve`. The test asks
// Prometheus' HTTP API whether every target is up and whether the counters
// moved across work done in between (pods, containers, a skopeo push, a pull).
// Smaller direct checks: the content type, 403 for a user without rights, and
// a bad --metrics-addr.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startE2eCluster, hex, type E2eCluster } from '../cluster-e2e/e2e-cluster.js';
import { startTestDaemon, tugBin, type TestDaemon } from '../helpers/tug-daemon.js';
import { freePort } from '../registry-client/helpers.js';
import { buildOciLayout, skopeo } from '../registry/helpers.js';
import { runTug } from '../cli/cli-helpers.js';

let cluster: E2eCluster;
let daemon: TestDaemon;
let work: string;
let registry: ChildProcess | undefined;
let prometheus: ChildProcess | undefined;
let registryUrl = '';
let promUrl = '';
let engineMetricsUrl = '';
let apiUrl = '';
let agentUrl = '';
let ca = '';
let monitorToken = '';
let nobodyToken = '';

interface Reply {
  status: number;
  type: string;
  body: string;
}

/** GET over http or https (the cluster CA trusted), with an optional bearer token. */
function get(url: string, token?: string): Promise<Reply> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(u, { ca: ca || undefined, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function spawnLogged(cmd: string, args: string[], log: { out: string }): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (b: Buffer) => (log.out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (log.out += b.toString()));
  return child;
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(t);
}

const registryLog = { out: '' };
const promLog = { out: '' };

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'tug-prom-'));
  cluster = await startE2eCluster();
  const kubeconfig = parseYaml(await readFile(join(cluster.dataDir, 'kubeconfig'), 'utf8')) as any;
  ca = Buffer.from(kubeconfig.clusters[0].cluster['certificate-authority-data'], 'base64').toString();
  apiUrl = kubeconfig.clusters[0].cluster.server;
  const enginePort = await freePort();
  daemon = await startTestDaemon(['--metrics-addr', `127.0.0.1:${enginePort}`]);
  engineMetricsUrl = `http://127.0.0.1:${enginePort}/metrics`;
  const regPort = await freePort();
  registry = spawnLogged(process.execPath, [tugBin, 'registry', 'serve', '--addr', `127.0.0.1:${regPort}`, '--root', join(work, 'registry')], registryLog);
  registryUrl = `http://127.0.0.1:${regPort}`;
  await cluster.until('the registry', async () => (await get(`${registryUrl}/v2/`).catch(() => undefined))?.status === 200);

  // A scraper identity as Kubernetes sets one up: system:monitoring for /metrics, nodes/metrics for the kubelet.
  const k = (args: string[], input?: string) => cluster.kubectl(args, { input });
  await k(['create', 'serviceaccount', 'prometheus', '-n', 'default']);
  await k(['create', 'serviceaccount', 'nobody', '-n', 'default']);
  await k(['create', 'clusterrolebinding', 'prometheus-monitoring', '--clusterrole=system:monitoring', '--serviceaccount=default:prometheus']);
  await k(['create', 'clusterrole', 'prometheus-nodes', '--verb=get', '--resource=nodes/metrics']);
  await k(['create', 'clusterrolebinding', 'prometheus-nodes', '--clusterrole=prometheus-nodes', '--serviceaccount=default:prometheus']);
  monitorToken = (await k(['create', 'token', 'prometheus', '-n', 'default', '--duration=1h'])).stdout.trim();
  nobodyToken = (await k(['create', 'token', 'nobody', '-n', 'default', '--duration=1h'])).stdout.trim();
  const node = JSON.parse((await k(['get', 'nodes', '-o', 'json'])).stdout).items[0];
  const ip = node.status.addresses.find((a: { type: string }) => a.type === 'InternalIP').address;
  agentUrl = `https://${ip}:${node.status.daemonEndpoints.kubeletEndpoint.Port}`;

  await writeFile(join(work, 'ca.crt'), ca);
  await writeFile(join(work, 'token'), monitorToken);
  const api = new URL(apiUrl);
  const agent = new URL(agentUrl);
  const auth = { authorization: { credentials_file: join(work, 'token') } };
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    scrape_configs: [
      { job_name: 'apiserver', scheme: 'https', tls_config: { ca_file: join(work, 'ca.crt') }, ...auth, static_configs: [{ targets: [api.host] }] },
      { job_name: 'kubelet', scheme: 'https', tls_config: { ca_file: join(work, 'ca.crt') }, ...auth, static_configs: [{ targets: [agent.host] }] },
      { job_name: 'cadvisor', scheme: 'https', tls_config: { ca_file: join(work, 'ca.crt') }, metrics_path: '/metrics/cadvisor', ...auth, static_configs: [{ targets: [agent.host] }] },
      { job_name: 'engine', static_configs: [{ targets: [new URL(engineMetricsUrl).host] }] },
      { job_name: 'registry', static_configs: [{ targets: [new URL(registryUrl).host] }] },
    ],
  };
  await writeFile(join(work, 'prometheus.yml'), JSON.stringify(config));
  const promPort = await freePort();
  promUrl = `http://127.0.0.1:${promPort}`;
  prometheus = spawnLogged('prometheus', [`--config.file=${join(work, 'prometheus.yml')}`, `--storage.tsdb.path=${join(work, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`], promLog);
  await cluster.until('prometheus ready', async () => (await get(`${promUrl}/-/ready`).catch(() => undefined))?.status === 200);
});

after(async () => {
  await cluster?.kubectl(['delete', 'deployment', 'metrics-web', '--ignore-not-found', '--wait=true'], { allowFailure: true });
  await cluster?.kubectl(['delete', 'clusterrolebinding', 'prometheus-monitoring', 'prometheus-nodes', '--ignore-not-found'], { allowFailure: true });
  await stopChild(prometheus);
  await stopChild(registry);
  await daemon?.stop();
  await cluster?.stop();
  await rm(work, { recursive: true, force: true });
});

/** One instant query; the value of its single (or summed) sample, 0 when the result is empty. */
async function query(expr: string): Promise<number> {
  const r = await get(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  assert.equal(r.status, 200, `query ${expr}: ${r.body}`);
  const data = JSON.parse(r.body).data;
  return data.result.reduce((n: number, s: { value: [number, string] }) => n + Number(s.value[1]), 0);
}

const series = {
  apiRequests: 'sum(apiserver_request_total)',
  apiPodCreates: 'sum(apiserver_request_total{verb="POST",resource="pods",code="201"})',
  apiLatencyCount: 'sum(apiserver_request_duration_seconds_count{resource="deployments"})',
  storage: 'sum(etcd_request_duration_seconds_count{type="pods"})',
  scheduled: 'sum(scheduler_schedule_attempts_total{result="scheduled"})',
  deploymentQueue: 'sum(workqueue_adds_total{name="deployment"})',
  replicasetWork: 'sum(workqueue_work_duration_seconds_count{name="replicaset"})',
  podStarts: 'sum(kubelet_pod_start_duration_seconds_count)',
  cadvisorCpu: 'sum(container_cpu_usage_seconds_total{pod=~"metrics-web-.*"})',
  engineStarts: 'sum(engine_daemon_container_actions_seconds_count{action="start"})',
  enginePulls: 'sum(engine_daemon_image_actions_seconds_count{action="pull"})',
  engineEvents: 'sum(engine_daemon_events_total)',
  registryRequests: 'sum(registry_http_requests_total)',
  registryBytesIn: 'sum(registry_http_request_size_bytes_sum{handler="blob_upload_chunk"})',
  registryBlobs: 'sum(registry_storage_blob_commits_total)',
};

test('Prometheus scrapes every daemon: all targets up, and the counters move with the work done', async () => {
  for (const job of ['apiserver', 'kubelet', 'cadvisor', 'engine', 'registry']) {
    await cluster.until(`target ${job} up`, async () => (await query(`up{job="${job}"}`)) === 1 || undefined, 120).catch((err) => {
      throw new Error(`${(err as Error).message}\n${promLog.out.slice(-3000)}`);
    });
  }
  const before: Record<string, number> = {};
  for (const [k, expr] of Object.entries(series)) before[k] = await query(expr);

  // Work: a Deployment's pods, a container on the engine, an image pushed with skopeo and pulled by the engine.
  await cluster.kubectl(['create', 'deployment', 'metrics-web', '--image=busybox', '--replicas=2', '--', 'sleep', '3600']);
  await cluster.kubectl(['rollout', 'status', 'deployment/metrics-web', '--timeout=300s']);
  const layout = join(work, 'layout');
  await buildOciLayout(layout, 'v1', { layers: 2, bytesPerLayer: 100_000 });
  const ref = `${new URL(registryUrl).host}/metrics/app:${hex(3)}`;
  await skopeo(['copy', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${ref}`]);
  const pulled = await runTug(daemon.env, ['pull', ref]);
  assert.equal(pulled.code, 0, pulled.stderr);
  const ran = await runTug(daemon.env, ['run', '-d', '--rm', 'busybox', 'sleep', '60']);
  assert.equal(ran.code, 0, ran.stderr);

  for (const [k, expr] of Object.entries(series)) {
    await cluster.until(`${k} (${expr}) to move past ${before[k]}`, async () => (await query(expr)) > before[k]! || undefined, 120);
  }
  // Gauges read at scrape time.
  assert.ok((await query('sum(apiserver_longrunning_requests{verb="WATCH"})')) > 0, 'open watches are counted');
  await cluster.until('kubelet_running_pods', async () => (await query('kubelet_running_pods')) >= 2 || undefined, 60);
  assert.ok((await query('sum(container_memory_working_set_bytes{pod=~"metrics-web-.*",namespace="default"})')) > 0);
  assert.ok((await query('count(container_network_receive_bytes_total{pod=~"metrics-web-.*",interface="eth0"})')) >= 2, 'network series per pod');
  await cluster.until('a running engine container', async () => (await query('engine_daemon_container_states_containers{state="running"}')) >= 1 || undefined, 60);
  assert.ok((await query('process_resident_memory_bytes{job="apiserver"}')) > 0);
  assert.ok((await query('sum(nodejs_heap_size_used_bytes{job="registry"})')) > 0);
});

test('each /metrics answers in the text format 0.0.4; a user without rights gets 403', async () => {
  const textType = /^text\/plain; version=0\.0\.4/;
  const api = await get(`${apiUrl}/metrics`, monitorToken);
  assert.equal(api.status, 200, api.body);
  assert.match(api.type, textType);
  assert.match(api.body, /^# TYPE apiserver_request_total counter$/m);
  assert.match(api.body, /^workqueue_depth\{name="deployment"\} \d+$/m, 'the controllers\' worker series are merged in');
  assert.equal((api.body.match(/^# TYPE workqueue_depth /gm) ?? []).length, 1, 'one family per name across threads');
  assert.equal((await get(`${apiUrl}/metrics`, nobodyToken)).status, 403);
  assert.equal((await get(`${apiUrl}/metrics`)).status, 401);

  const kubelet = await get(`${agentUrl}/metrics`, monitorToken);
  assert.equal(kubelet.status, 200, kubelet.body);
  assert.match(kubelet.type, textType);
  assert.match(kubelet.body, /^kubelet_running_containers\{container_state="running"\} \d+$/m);
  const cadvisor = await get(`${agentUrl}/metrics/cadvisor`, monitorToken);
  assert.match(cadvisor.type, textType);
  assert.match(cadvisor.body, /^container_cpu_usage_seconds_total\{container="[^"]+",id="[^"]+",image="[^"]*",name="[^"]+",namespace="[^"]+",pod="[^"]+",cpu="total"\} /m);
  assert.equal((await get(`${agentUrl}/metrics`, nobodyToken)).status, 403);
  assert.equal((await get(`${agentUrl}/metrics/cadvisor`, nobodyToken)).status, 403);

  const engine = await get(engineMetricsUrl);
  assert.equal(engine.status, 200);
  assert.match(engine.type, textType);
  assert.match(engine.body, /^engine_daemon_container_states_containers\{state="stopped"\} \d+$/m);
  assert.equal((await get(engineMetricsUrl.replace('/metrics', '/containers/json'))).status, 404, 'the metrics listener serves metrics only');

  const reg = await get(`${registryUrl}/metrics`);
  assert.equal(reg.status, 200);
  assert.match(reg.type, textType);
  assert.match(reg.body, /^registry_http_requests_total\{code="201",handler="manifest",method="PUT"\} \d+$/m);
});

test('tug daemon --metrics-addr refuses a value that is not HOST:PORT, naming the flag', async () => {
  const r = await runTug(process.env, ['daemon', '--root', join(work, 'never'), '--socket', join(work, 'never.sock'), '--metrics-addr', 'nine-three-two-three']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--metrics-addr: want HOST:PORT/);
});
