// `tug server` and `tug agent`: argument parsing and process lifetime only.
// This is where the cluster's layers meet: the API server (src/apiserver,
// assembled in cluster-server.ts), the scheduler and controllers
// (src/controllers, in a worker thread) and an embedded node agent (src/node).
// No layer imports another but kube/; only this file knows them all.
import { parseArgs } from 'node:util';
import { invalid, messageOf } from '../errdefs.js';
import { startClusterServer } from '../apiserver/cluster-server.js';
import { KubeClient } from '../kube/client/kube-client.js';
import { DEFAULT_TOLERATION_SECONDS } from '../apiserver/default-toleration-seconds.js';
import { DEFAULT_NODE_LEASE_DURATION_SECONDS, DEFAULT_RESTART_HOLD_SECONDS } from '../node/agent/node-heartbeat.js';
import { parseDurationMs, positiveInt } from '../util/duration-flag.js';
import { claimNodeResources, type HeldClaim } from '../node/host-claims.js';
import { caCertHash } from '../kube/client/ca-pin.js';
import { DEFAULT_NODE_PORT_RANGE, parseNodePortRange } from '../apiserver/service-allocator.js';
import { DEFAULT_LEASE_DURATION_MS, DEFAULT_RENEW_DEADLINE_MS, DEFAULT_RETRY_PERIOD_MS, validateTimings, type LeaderElectionTimings } from '../kube/client/leader-election.js';
import { DEFAULT_CLUSTER_CIDR, DEFAULT_NODE_CIDR_MASK_SIZE, validateClusterNetwork, type ClusterNetwork, type NetworkBackend } from '../controllers/node-ipam-controller.js';
import { DEFAULT_SERVER_UI_ADDR, parseUiAddr, parseUiRegistry, type UiAddr } from '../dashboard/ui-addr.js';
import type { Dashboard } from '../dashboard/dashboard-server.js';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { startAgent, withNodeServices, runAgentCommand as runAgent, DEFAULT_NODE_BRIDGE, type RunningAgent } from '../node/run-agent.js';
import { nodeCredentials, type ClientCertRotation } from '../node/agent/tls-bootstrap.js';
import { hostname } from 'node:os';
import { stopSignal } from '../util/stop-signal.js';

const serverHelp = `Usage: tug server --data-dir DIR --port N [OPTIONS]

Runs a Kubernetes-compatible control plane (API server with SQLite or etcd
storage). Writes DIR/kubeconfig (admin client certificate) for kubectl.

Options:
  --data-dir DIR          state, certificates and kubeconfig (required)
  --port N                HTTPS port of the API (default 6443; 0 = any free port)
  --bind ADDR             address to listen on (default 127.0.0.1)
  --store sqlite|etcd     storage backend (default sqlite: DIR/state.db)
  --etcd-endpoints URLS   comma-separated etcd client URLs (with --store etcd)
  --etcd-prefix PREFIX    key prefix in etcd, so several clusters can share one
  --service-cidr CIDR     range for Service cluster IPs (default 10.96.0.0/12)
  --service-node-port-range LOW-HIGH
                          ports NodePort Services get (default 30000-32767); with the
                          embedded agent they are claimed on this machine, so a second
                          cluster here must use another range
  --leader-elect[=false]  the scheduler and the controllers act only while this server
                          holds their Lease in kube-system (default: true with --store
                          etcd; false with sqlite, which only one server can use)
  --leader-elect-lease-duration D
                          how long standby servers wait after the leader's last renewal
                          before taking over (default 4s; Kubernetes: 15s)
  --leader-elect-renew-deadline D
                          how long the leader keeps acting without a successful
                          renewal; less than the lease duration (default 3s; Kubernetes: 10s)
  --leader-elect-retry-period D
                          how often candidates try to acquire and the leader renews
                          (default 500ms; Kubernetes: 2s)
  --identity-lease-duration-seconds N
                          how long after its last renewal a stopped server leaves
                          the kubernetes Endpoints (default 15)
  --no-agent              do not start the embedded node agent
  --node-name N           Node name of the embedded agent (default: host name)
  --node-bridge NAME      bridge of the embedded agent's pods (default tugpod0)
  --cluster-cidr CIDR     the pods' range of the whole cluster (default ${DEFAULT_CLUSTER_CIDR}); the node
                          IPAM gives each Node a /--node-cidr-mask-size of it as spec.podCIDR
  --node-cidr-mask-size N size of each node's range (default ${DEFAULT_NODE_CIDR_MASK_SIZE})
  --network-backend vxlan|host-gw|none
                          how nodes reach each other's pods (default vxlan: a VXLAN overlay
                          over any IP network; host-gw: plain routes, nodes on one L2 segment;
                          none: no routes between nodes)
  --pod-cidr CIDR         pod range of the embedded agent (default: one from the node IPAM)
  --node-ip IP            the embedded agent's node address (default: the default route's)
  --node-monitor-grace-period D
                          how long a node may stay silent (no Lease renewal, no
                          status) before it is unreachable (default 2s; "1500ms", "40s")
  --default-not-ready-toleration-seconds N
  --default-unreachable-toleration-seconds N
                          tolerationSeconds given to pods that lack these
                          tolerations: how long after its node went down a pod is
                          evicted (default ${DEFAULT_TOLERATION_SECONDS}; Kubernetes: 300)
  --node-lease-duration-seconds N
                          the embedded agent's node Lease (renewed every quarter
                          of it; default ${DEFAULT_NODE_LEASE_DURATION_SECONDS})
  --restart-hold-seconds N
                          on a clean stop that leaves the embedded agent's pods running, its
                          Lease's last renewal lasts N seconds (default ${DEFAULT_RESTART_HOLD_SECONDS}; 0: none),
                          so a restart never makes the node Unknown
  --cluster-signing-duration D
                          lifetime of the certificates the CSR signer issues (node client
                          and serving certificates; default 8760h, at least 10m); a
                          request's spec.expirationSeconds may ask for less
  --scheduler-hold        the scheduler binds no pod until the process gets SIGUSR2
  --metric-resolution D   how often node agents' resource metrics are scraped for
                          metrics.k8s.io / kubectl top (default 1s; metrics-server: 60s)
  --horizontal-pod-autoscaler-sync-period D
                          how often each HorizontalPodAutoscaler is reconciled
                          (default 1s; Kubernetes: 15s)
  --horizontal-pod-autoscaler-downscale-stabilization D
                          scale-down window of HPAs without spec.behavior (default 5m)
                          (benchmarks: create pods first, then time scheduling alone)
  --ui-addr HOST:PORT     where the web dashboard listens (default ${DEFAULT_SERVER_UI_ADDR}; "off" or ""
                          turns it off); \`tug dashboard --data-dir DIR\` prints a login link
  --ui-registry HOST:PORT the registry the dashboard's Registry view lists, read with the
                          credentials \`tug login HOST:PORT\` stored
  -h, --help              show this help
`;

export interface ParsedServerArgs {
  dataDir: string;
  port: number;
  bind: string;
  store: { kind: 'sqlite' } | { kind: 'etcd'; endpoints: string[]; prefix?: string };
  serviceCidr: string;
  noAgent: boolean;
  nodeName?: string;
  nodeBridge: string;
  podCidr?: string;
  nodeIp?: string;
  clusterNetwork: ClusterNetwork;
  identityLeaseDurationSeconds?: number;
  schedulerHold: boolean;
  metricResolutionMs?: number;
  hpaSyncPeriodMs?: number;
  hpaDownscaleStabilizationMs?: number;
  nodeMonitorGracePeriodMs?: number;
  defaultNotReadyTolerationSeconds?: number;
  defaultUnreachableTolerationSeconds?: number;
  nodeLeaseDurationSeconds?: number;
  restartHoldSeconds?: number;
  nodePortRange: [number, number];
  /** Absent with --leader-elect=false. */
  leaderElection?: LeaderElectionTimings;
  clusterSigningDurationMs?: number;
  /** undefined: no dashboard. */
  uiAddr?: UiAddr;
  /** The registry the dashboard's hub view lists. */
  uiRegistry?: string;
}

/** A duration flag of `tug server` ("500ms", "2s", "5m", or plain seconds) of at least min ms. */
function durationFlag(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const ms = parseDurationMs(v, `tug server: --${flag}`, min);
  return ms;
}

/** Kubernetes' boolean flag syntax, --leader-elect or --leader-elect=true|false, which parseArgs does not read: taken out first. */
function takeBoolFlag(argv: string[], flag: string): { rest: string[]; value: boolean | undefined } {
  let value: boolean | undefined;
  const rest = argv.filter((a) => {
    const m = new RegExp(`^--${flag}(?:=(.*))?$`).exec(a);
    if (!m) return true;
    if (m[1] !== undefined && m[1] !== 'true' && m[1] !== 'false') throw invalid(`tug server: --${flag}="${m[1]}": say true or false`);
    value = m[1] !== 'false';
    return false;
  });
  return { rest, value };
}

export function parseServerArgs(argv: string[]): ParsedServerArgs | 'help' {
  let values;
  const leaderElect = takeBoolFlag(argv, 'leader-elect');
  try {
    ({ values } = parseArgs({
      args: leaderElect.rest,
      options: {
        'data-dir': { type: 'string' },
        port: { type: 'string', default: '6443' },
        bind: { type: 'string', default: '127.0.0.1' },
        store: { type: 'string', default: 'sqlite' },
        'etcd-endpoints': { type: 'string' },
        'etcd-prefix': { type: 'string' },
        'service-cidr': { type: 'string', default: '10.96.0.0/12' },
        'service-node-port-range': { type: 'string', default: `${DEFAULT_NODE_PORT_RANGE[0]}-${DEFAULT_NODE_PORT_RANGE[1]}` },
        'leader-elect-lease-duration': { type: 'string' },
        'leader-elect-renew-deadline': { type: 'string' },
        'leader-elect-retry-period': { type: 'string' },
        'no-agent': { type: 'boolean', default: false },
        'node-name': { type: 'string' },
        'node-bridge': { type: 'string', default: DEFAULT_NODE_BRIDGE },
        'pod-cidr': { type: 'string' },
        'node-ip': { type: 'string' },
        'cluster-cidr': { type: 'string', default: DEFAULT_CLUSTER_CIDR },
        'node-cidr-mask-size': { type: 'string', default: String(DEFAULT_NODE_CIDR_MASK_SIZE) },
        'network-backend': { type: 'string', default: 'vxlan' },
        'identity-lease-duration-seconds': { type: 'string' },
        'scheduler-hold': { type: 'boolean', default: false },
        'metric-resolution': { type: 'string' },
        'horizontal-pod-autoscaler-sync-period': { type: 'string' },
        'horizontal-pod-autoscaler-downscale-stabilization': { type: 'string' },
        'node-monitor-grace-period': { type: 'string' },
        'default-not-ready-toleration-seconds': { type: 'string' },
        'default-unreachable-toleration-seconds': { type: 'string' },
        'node-lease-duration-seconds': { type: 'string' },
        'restart-hold-seconds': { type: 'string' },
        'cluster-signing-duration': { type: 'string' },
        'ui-addr': { type: 'string', default: DEFAULT_SERVER_UI_ADDR },
        'ui-registry': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    throw invalid(`tug server: ${messageOf(err)}`);
  }
  if (values.help) return 'help';
  if (!values['data-dir']) throw invalid('tug server: --data-dir is required');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalid(`tug server: --port "${values.port}" is not a port number`);
  let store: ParsedServerArgs['store'];
  if (values.store === 'sqlite') store = { kind: 'sqlite' };
  else if (values.store === 'etcd') {
    const endpoints = (values['etcd-endpoints'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (!endpoints.length) throw invalid('tug server: --store etcd needs --etcd-endpoints');
    store = { kind: 'etcd', endpoints, prefix: values['etcd-prefix'] };
  } else throw invalid(`tug server: --store must be sqlite or etcd, not "${values.store}"`);
  const lease = values['identity-lease-duration-seconds'];
  const identityLeaseDurationSeconds = lease === undefined ? undefined : Number(lease);
  if (identityLeaseDurationSeconds !== undefined && !(Number.isInteger(identityLeaseDurationSeconds) && identityLeaseDurationSeconds > 0)) throw invalid(`tug server: --identity-lease-duration-seconds "${lease}" is not a positive whole number`);
  const metricResolutionMs = durationFlag('metric-resolution', values['metric-resolution'], 100);
  const hpaSyncPeriodMs = durationFlag('horizontal-pod-autoscaler-sync-period', values['horizontal-pod-autoscaler-sync-period'], 100);
  const clusterSigningDurationMs = durationFlag('cluster-signing-duration', values['cluster-signing-duration'], 10 * 60_000);
  const hpaDownscaleStabilizationMs = durationFlag('horizontal-pod-autoscaler-downscale-stabilization', values['horizontal-pod-autoscaler-downscale-stabilization'], 0);
  const grace = values['node-monitor-grace-period'];
  const lifecycle = {
    nodeMonitorGracePeriodMs: grace === undefined ? undefined : parseDurationMs(grace, 'tug server: --node-monitor-grace-period'),
    defaultNotReadyTolerationSeconds: positiveInt(values['default-not-ready-toleration-seconds'], 'tug server: --default-not-ready-toleration-seconds', true),
    defaultUnreachableTolerationSeconds: positiveInt(values['default-unreachable-toleration-seconds'], 'tug server: --default-unreachable-toleration-seconds', true),
    nodeLeaseDurationSeconds: positiveInt(values['node-lease-duration-seconds'], 'tug server: --node-lease-duration-seconds'),
    restartHoldSeconds: positiveInt(values['restart-hold-seconds'], 'tug server: --restart-hold-seconds', true),
  };
  const nodePortRange = parseNodePortRange(values['service-node-port-range']!);
  let leaderElection: LeaderElectionTimings | undefined;
  // A SQLite store is one server's: no one could take over, and a leader that a loaded
  // machine makes miss its renew deadline would only stop and restart its own controllers
  // (k3s, too, runs without leader election on its embedded SQLite).
  if (leaderElect.value ?? store.kind === 'etcd') {
    const timing = (flag: string, dflt: number): number => durationFlag(flag, values[flag as 'leader-elect-lease-duration'], 1) ?? dflt;
    try {
      leaderElection = validateTimings({ leaseDurationMs: timing('leader-elect-lease-duration', DEFAULT_LEASE_DURATION_MS), renewDeadlineMs: timing('leader-elect-renew-deadline', DEFAULT_RENEW_DEADLINE_MS), retryPeriodMs: timing('leader-elect-retry-period', DEFAULT_RETRY_PERIOD_MS) });
    } catch (err) {
      throw invalid(`tug server: ${messageOf(err)}`);
    }
  }
  let clusterNetwork: ClusterNetwork;
  try {
    clusterNetwork = validateClusterNetwork({ clusterCidr: values['cluster-cidr']!, nodeCidrMaskSize: Number(values['node-cidr-mask-size']), backend: values['network-backend'] as NetworkBackend });
  } catch (err) {
    throw invalid(`tug server: ${messageOf(err)}`);
  }
  const uiAddr = parseUiAddr(values['ui-addr']!, 'tug server');
  const uiRegistry = parseUiRegistry(values['ui-registry'], 'tug server');
  return { ...lifecycle, uiAddr, uiRegistry, clusterSigningDurationMs, nodePortRange, leaderElection, clusterNetwork, nodeIp: values['node-ip'], metricResolutionMs, hpaSyncPeriodMs, hpaDownscaleStabilizationMs, identityLeaseDurationSeconds, dataDir: values['data-dir'], port, bind: values.bind!, store, serviceCidr: values['service-cidr']!, noAgent: values['no-agent']!, nodeName: values['node-name'], nodeBridge: values['node-bridge']!, podCidr: values['pod-cidr'], schedulerHold: values['scheduler-hold']! };
}

export async function runServerCommand(argv: string[]): Promise<void> {
  const stopped = stopSignal({ repeatExits: true });
  let args;
  try {
    args = parseServerArgs(argv);
  } catch (err) {
    process.stderr.write(`${messageOf(err)}\n\n${serverHelp}`);
    process.exitCode = 2;
    return;
  }
  if (args === 'help') {
    process.stdout.write(serverHelp);
    return;
  }
  let server;
  // The embedded agent's bridge and pod range (and the DNS address on it) must not be another tug node's on this machine.
  let claims: HeldClaim | undefined;
  let dashboard: Dashboard | undefined;
  try {
    // The cluster's CA names it, so its own agents on this machine may share its NodePorts (a restart knows it from the start).
    const knownCa = await readFile(join(args.dataDir, 'pki', 'ca.crt'), 'utf8').catch(() => undefined);
    if (!args.noAgent) claims = await claimNodeResources({ dataDir: args.dataDir, bridge: args.nodeBridge, podCidr: args.podCidr ?? args.clusterNetwork.clusterCidr, rangeFlag: args.podCidr ? '--pod-cidr' : '--cluster-cidr', nodePortRange: args.nodePortRange, command: 'tug server', cluster: knownCa ? caCertHash(knownCa) : undefined });
    // Then the dashboard: a taken address refuses the start before the control plane is made
    // (host claims write nothing into the data dir; the dashboard writes its login token there).
    if (args.uiAddr) dashboard = await (await import('../dashboard/dashboard-server.js')).startDashboard({ addr: args.uiAddr, root: args.dataDir, command: 'tug server', registry: args.uiRegistry });
    server = await (await import('../controllers/controller-manager.js')).withControllers(
      await startClusterServer({
        dataDir: args.dataDir,
        port: args.port,
        bind: args.bind,
        store: args.store,
        serviceCidr: args.serviceCidr,
        nodePortRange: args.nodePortRange,
        identityLeaseDurationSeconds: args.identityLeaseDurationSeconds,
        defaultNotReadyTolerationSeconds: args.defaultNotReadyTolerationSeconds,
        defaultUnreachableTolerationSeconds: args.defaultUnreachableTolerationSeconds,
        metricResolutionMs: args.metricResolutionMs,
        clusterSigningDurationMs: args.clusterSigningDurationMs,
      }),
      { holdSchedulerUntil: args.schedulerHold ? 'SIGUSR2' : undefined, nodeMonitorGracePeriodMs: args.nodeMonitorGracePeriodMs, hpa: { syncPeriodMs: args.hpaSyncPeriodMs, downscaleStabilizationMs: args.hpaDownscaleStabilizationMs }, clusterNetwork: args.clusterNetwork, leaderElection: args.leaderElection },
    );
  } catch (err) {
    process.stderr.write(`tug server: ${messageOf(err)}\n`);
    await claims?.release();
    await dashboard?.close();
    process.exitCode = 1;
    return;
  }
  await claims?.extend({ cluster: server.caCertHash });
  process.stdout.write(`tug server: API listening on ${server.url}\ntug server: kubeconfig written to ${server.kubeconfig}\n`);
  process.stdout.write(`tug server: CA certificate hash ${server.caCertHash}\ntug server: join a node with ${server.joinCommand.redacted} (the full command, token included, is in ${server.joinCommand.path})\n`);
  if (dashboard) {
    dashboard.setKube({ url: server.url, ca: server.caCert, adminToken: server.adminToken });
    process.stdout.write(`tug server: dashboard on ${dashboard.url} (a login link: tug dashboard --data-dir ${args.dataDir})\n`);
  }
  // The embedded node agent (as k3s runs one), as its own node (system:node:<name>), not as the admin:
  // the server holds the CA, so it signs the node's client certificate itself (DATA_DIR/node.kubeconfig,
  // renewed like a joined node's); the serving certificate is asked for as every node does.
  let agent: RunningAgent | undefined;
  let rotation: ClientCertRotation | undefined;
  if (!args.noAgent) {
    try {
      const admin = await KubeClient.fromKubeconfig(server.kubeconfig);
      const nodeName = args.nodeName || hostname().toLowerCase();
      const creds = await nodeCredentials({
        server: admin.server,
        dataDir: args.dataDir,
        nodeName,
        pins: [server.caCertHash],
        bootstrapCa: async () => server.caCert,
        signWith: { certPem: server.caCert, keyPem: await readFile(join(args.dataDir, 'pki', 'ca.key'), 'utf8') },
        signingDurationMs: args.clusterSigningDurationMs,
        log: (m) => process.stderr.write(`tug server: node agent: ${m}\n`),
      });
      rotation = creds.rotation;
      const client = creds.client;
      const started = await startAgent({ client, dataDir: args.dataDir, nodeName, bridgeName: args.nodeBridge, podCidr: args.podCidr, nodeIp: args.nodeIp, leaseDurationSeconds: args.nodeLeaseDurationSeconds, restartHoldSeconds: args.restartHoldSeconds });
      // The kube-dns Service is the cluster's, written with the server's own credentials, not the node's.
      agent = await withNodeServices(started, { client, dnsServiceClient: admin, bridge: args.nodeBridge, podCidr: started.podCidr, clusterCidr: started.clusterCidr, serviceCidr: args.serviceCidr });
      rotation.start();
      dashboard?.setEngine(join(args.dataDir, 'engine.sock'));
      process.stdout.write(`tug server: node agent registered node ${agent.nodeName}\n`);
    } catch (err) {
      rotation?.stop();
      process.stderr.write(`tug server: node agent: ${messageOf(err)}\n`);
    }
  }
  await stopped;
  rotation?.stop();
  await agent?.close().catch((err) => process.stderr.write(`tug server: node agent: ${messageOf(err)}\n`));
  await dashboard?.close();
  await server.close();
  await claims?.release();
  // The embedded agent's pods keep running, and its engine still waits on each one's exit: that must not hold the process open.
  process.exit();
}

export async function runAgentCommand(argv: string[]): Promise<void> {
  await runAgent(argv);
}
