// Starting a node agent with its own engine: embedded in `tug server` (with
// the server's kubeconfig) or standalone as `tug agent --server URL --token T
// --discovery-token-ca-cert-hash sha256:HEX`, which verifies the server before
// it sends the token (kube/client/ca-pin.ts). withNodeServices adds the node's
// service proxy and cluster DNS (node-services.ts) to a started agent.
// The engine lives in DATA_DIR/engine and serves the Docker API on
// DATA_DIR/engine.sock, so `docker -H unix://...` can look inside the node.
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { Engine } from '../engine/engine.js';
import { ContainerService } from '../engine/container-service.js';
import { serveDockerApi } from '../engine-api/server.js';
import { preflight } from '../engine/preflight.js';
import { ensureDir } from '../util/dir-mode.js';
import { invalid, messageOf } from '../errdefs.js';
import { KubeClient } from '../kube/client/kube-client.js';
import { caCertHash, discoverPresentedCa } from '../kube/client/ca-pin.js';
import { agentNodeName, agentServers, credentialSource, DEFAULT_AGENT_DATA_DIR, DEFAULT_NODE_BRIDGE, DEFAULT_SERVICE_CIDR, parseAgentFlags, type AgentFlags } from './agent/agent-flags.js';
import { agentTrust, firstAnswer, trustedServerCa, type ServerTrust } from './agent/server-trust.js';
import { NodeAgent } from './agent/node-agent.js';
import { DEFAULT_NODE_LEASE_DURATION_SECONDS, DEFAULT_RESTART_HOLD_SECONDS, NodeLease, readyAgain } from './agent/node-heartbeat.js';
import { claimNodeName } from './agent/node-identity.js';
import { nodeCredentials, NODE_KUBECONFIG, type ClientCertRotation } from './agent/tls-bootstrap.js';
import { machineFacts } from './agent/node-status.js';
import { startAgentServer, type AgentServer } from './agent/agent-server.js';
import { AgentMetrics } from './agent/agent-metrics.js';
import { AgentAuth } from './agent/agent-auth.js';
import { ServingCertificate } from './agent/serving-cert.js';
import { PodDns } from './dns/pod-dns.js';
import { bridgeGatewayIp, ensureKubeDnsService } from './dns/kube-dns-service.js';
import { ServiceEnv } from './agent/service-env.js';
import type { NodeServices, NodeServicesOptions } from './node-services.js';
import { claimNodeResources, type HeldClaim } from './host-claims.js';
import { positiveInt } from '../util/duration-flag.js';
import { DEFAULT_NODE_PORT_RANGE, parseNodePortRange } from '../kube/api/node-port-range.js';
import { detectNodeAddress, type NodeAddress } from './network/node-address.js';
import { awaitPodCidr, cidrWithin, readClusterNetwork, registerNode } from './network/pod-cidr.js';
import { PodNetwork, podMtu, podNetworkAnnotations } from './network/pod-network.js';
import { stopSignal } from '../util/stop-signal.js';
import { traceAgent } from './agent/sync-trace.js';

export { DEFAULT_NODE_BRIDGE, DEFAULT_SERVICE_CIDR } from './agent/agent-flags.js';
/** How long a starting agent waits for its first serving certificate before it goes on asking in the background. */
const SERVING_CERT_WAIT_MS = 30_000;

export interface AgentOptions {
  client: KubeClient;
  dataDir: string;
  nodeName?: string;
  bridgeName?: string;
  /** An explicit pod range; without one the agent waits for the one the server's node IPAM hands its Node. */
  podCidr?: string;
  /** The node Lease's duration in seconds (default 2: renewed every 500 ms). */
  leaseDurationSeconds?: number;
  /** On a clean stop with pods left running, the Lease's last renewal lasts this long (default 10; 0: no hold). */
  restartHoldSeconds?: number;
  /** The node's address (default: the source address of the route to the API server). */
  nodeIp?: string;
  log?: (msg: string) => void;
}

export interface RunningAgent {
  agent: NodeAgent;
  engine: Engine;
  nodeName: string;
  /** This node's pod range (given, or from the node IPAM). */
  podCidr: string;
  /** The cluster's pod range when the server publishes one (what crosses nodes without NAT). */
  clusterCidr?: string;
  /** The node's InternalIP and the interface that carries it. */
  address: NodeAddress;
  /** What this agent's pods get from the node services: Service variables and cluster DNS. */
  serviceEnv: ServiceEnv;
  podDns: PodDns;
  /**
   * The first step of a clean stop: with pods left running, the node Lease is held
   * (--restart-hold-seconds) from here to the restart. close() does it too; a
   * caller with slow work of its own before close() calls it first.
   */
  holdForStop(): Promise<void>;
  /** Stops the agent; when no container is left, also removes the node's network. */
  close(): Promise<void>;
}

export async function startAgent(o: AgentOptions): Promise<RunningAgent> {
  await preflight();
  // 0700: the node's engine, its socket and the pods' secret volumes live here.
  await ensureDir(o.dataDir, 0o700);
  const nodeName = o.nodeName || hostname().toLowerCase();
  // The CA the agent trusts the API server with also vouches for the API server's client certificate here.
  const clusterCa = o.client.caPem;
  if (!clusterCa) throw invalid('the agent needs the cluster CA (from --discovery-token-ca-cert-hash, --ca-file or the kubeconfig) to verify the API server\'s calls to its endpoint');
  // Another machine's node of this name refuses us before anything is written.
  await claimNodeName(o.client, nodeName, o.dataDir);
  traceAgent?.('node name claimed (first API request)');
  // The Node first, so the node IPAM can give it a range; the bridge is built from that range.
  await registerNode(o.client, nodeName, {}, o.podCidr);
  traceAgent?.('node registered');
  // Heartbeats from here on, before the engine recovers every container (seconds with many pods on a loaded
  // machine): an agent restart must not look like a dead node. Stopped last in close(). The pods of a restarting
  // agent keep running all along; the Node's status follows once the agent runs (NodeAgent.start).
  const lease = new NodeLease({ client: o.client, nodeName, leaseDurationSeconds: o.leaseDurationSeconds ?? DEFAULT_NODE_LEASE_DURATION_SECONDS, log: o.log ?? ((m) => process.stderr.write(`tug agent: lease: ${m}\n`)) });
  await lease.start();
  try {
    if (await readyAgain(o.client, nodeName, new Date().toISOString().replace(/\.\d+Z$/, 'Z'))) traceAgent?.('node Ready again');
    return await startWithLease(o, nodeName, clusterCa, lease);
  } catch (err) {
    lease.stop();
    throw err;
  }
}

async function startWithLease(o: AgentOptions, nodeName: string, clusterCa: string, lease: NodeLease): Promise<RunningAgent> {
  const log = o.log ?? ((m: string) => process.stderr.write(`tug agent: ${m}\n`));
  const address = await detectNodeAddress(o.client.server, o.nodeIp);
  traceAgent?.('node address detected');
  const podCidr = o.podCidr ?? (await awaitPodCidr(o.client, nodeName));
  // A range picked by hand outside the cluster's makes a node on its own: no routes, NAT as before.
  const published = await readClusterNetwork(o.client, o.podCidr ? 1 : 25);
  const net = published && cidrWithin(podCidr, published.clusterCidr) ? published : undefined;
  traceAgent?.('pod range and cluster network read');
  const backend = net && net.backend !== 'none' ? net.backend : undefined;
  if (backend) await registerNode(o.client, nodeName, podNetworkAnnotations(nodeName, backend, address.ip));
  const engine = await Engine.open({
    root: join(o.dataDir, 'engine'),
    bridgeName: o.bridgeName ?? DEFAULT_NODE_BRIDGE,
    subnet: podCidr,
    mtu: backend ? podMtu(backend, address.mtu) : undefined,
    noMasqueradeTo: net ? [net.clusterCidr] : undefined,
  });
  traceAgent?.('engine opened');
  const podNetwork = backend && net ? new PodNetwork({ client: o.client, nodeName, address, podCidr, clusterCidr: net.clusterCidr, backend, bridge: o.bridgeName ?? DEFAULT_NODE_BRIDGE, log }) : undefined;
  const containers = new ContainerService(engine);
  await containers.recover();
  traceAgent?.('containers recovered');
  const socket = join(o.dataDir, 'engine.sock');
  await rm(socket, { force: true });
  const api = await serveDockerApi(containers, socket);
  traceAgent?.('docker API serving');
  let server: AgentServer | undefined;
  let agent: NodeAgent | undefined;
  let serving: ServingCertificate | undefined;
  const serviceEnv = new ServiceEnv();
  const podDns = new PodDns();
  try {
    await podNetwork?.start();
    traceAgent?.('pod network started');
    // Callers of the streaming endpoint are checked through the API server (SubjectAccessReview; TokenReview for bearer tokens).
    // It listens on the node's address, over TLS with the serving certificate the cluster issues for that address
    // (the SANs are the Node's InternalIP and Hostname addresses, which the approver checks).
    const metrics = new AgentMetrics(engine);
    serving = await ServingCertificate.load({ client: o.client, dataDir: o.dataDir, nodeName, ca: clusterCa, ipAddresses: [address.ip], dnsNames: [hostname()], log });
    server = await startAgentServer(containers, new AgentAuth({ client: o.client, nodeName }), metrics, { serving, clientCa: clusterCa }, address.ip);
    traceAgent?.('agent server listening');
    agent = new NodeAgent({ client: o.client, engine, containers, metrics, dataDir: o.dataDir, facts: machineFacts(nodeName, podCidr, server.port, address.ip), serviceEnv, podDns, leaseDurationSeconds: o.leaseDurationSeconds, lease, log: o.log });
    await agent.start();
    traceAgent?.('node agent started');
    // Asked for once the Node carries its addresses (agent.start posts them); the API server can reach logs and exec once it is issued.
    serving.start();
    const servingReady = await serving.ready(SERVING_CERT_WAIT_MS);
    traceAgent?.('serving certificate ready');
    if (!servingReady) log(`no serving certificate issued within ${SERVING_CERT_WAIT_MS / 1000}s (is its CertificateSigningRequest pending? kubectl get csr); still asking`);
  } catch (err) {
    serving?.stop();
    await podNetwork?.stop(false);
    await agent?.stop();
    await server?.close();
    await api.close();
    // A refused start (a node name another agent holds, say) leaves nothing behind: recovery set up the node's chains.
    await removeNetworkIfEmpty(engine, log);
    throw err;
  }
  const a = agent;
  const s = server;
  const sc = serving;
  // Pods left running at a clean stop: a restart (or a stop without a drain), not a dead machine; the cluster waits.
  const hold = o.restartHoldSeconds ?? DEFAULT_RESTART_HOLD_SECONDS;
  let holding: Promise<void> | undefined;
  const holdForStop = () => (holding ??= hold > 0 && !engineEmpty(engine) ? lease.hold(hold).catch((err) => log(`lease: ${messageOf(err)}`)) : Promise.resolve());
  return {
    agent: a,
    engine,
    nodeName,
    podCidr,
    clusterCidr: net?.clusterCidr,
    address,
    serviceEnv,
    podDns,
    holdForStop,
    async close() {
      await holdForStop();
      sc.stop();
      await a.stop();
      traceAgent?.('stop: node agent stopped');
      await s.close();
      traceAgent?.('stop: agent server closed');
      await api.close();
      traceAgent?.('stop: docker API closed');
      await rm(socket, { force: true });
      // Routes to other nodes stay while pods here may still use them (an agent restart).
      await podNetwork?.stop(engineEmpty(engine)).catch((err) => log(`pod network: ${messageOf(err)}`));
      await removeNetworkIfEmpty(engine, log);
      lease.stop();
      // Nothing left to wait for after all (the pods went while stopping): a dead node from here on.
      if (engineEmpty(engine)) await lease.release().catch((err) => log(`lease: ${messageOf(err)}`));
    },
  };
}

const engineEmpty = (engine: Engine): boolean => engine.containers.all().length === 0 && engine.pods.all().length === 0;

/** The node's bridge, chains and host state go with its last container; pods left running keep them (an agent restart). */
async function removeNetworkIfEmpty(engine: Engine, log: (m: string) => void): Promise<void> {
  if (!engineEmpty(engine)) return;
  await engine.network.destroy().catch((err) => log(`network: ${messageOf(err)}`));
  await engine.releaseHostState().catch(() => undefined);
}

const agentHelp = `Usage: tug agent --server URL --token T --discovery-token-ca-cert-hash sha256:HEX [OPTIONS]
       tug agent --server URL [--data-dir DIR] [OPTIONS]   (a node that joined before)
       tug agent --kubeconfig FILE [OPTIONS]

Runs a node agent: registers this machine as a Node and runs the pods the
scheduler binds to it, through its own engine.

Joining (TLS bootstrapping, as the kubelet): with a bootstrap token
(<id>.<secret>, from the server's DATA_DIR/join-command or tug token create)
the agent makes a key, asks the cluster for a client certificate for
system:node:<name> (a CertificateSigningRequest the cluster approves and
signs), and keeps it in DATA_DIR/${'node.kubeconfig'}; from then on it talks as
the node, and a restart on the same data dir reuses that certificate (the
token is no longer needed). The certificate is renewed at 70-90% of its
lifetime without a restart (TUG_AGENT_CERT_ROTATION_FRACTION=F renews at F
instead, for tests). A token that is not a bootstrap token is used as a plain
bearer token, as before.

Its streaming endpoint (logs, exec, attach, port-forward, metrics) listens
on the node's address over HTTPS only, with a kubernetes.io/kubelet-serving
certificate the cluster issues for that address (a CSR the server approves;
kept in DATA_DIR/${'kubelet-server-current.pem'}, renewed like the client
certificate). It serves callers with a client certificate from the cluster
CA (the API server's) or a bearer token the API server confirms
(TokenReview), who may use nodes/proxy on this node (SubjectAccessReview).

With --token the server is verified, as kubeadm join does: either against
the CA pinned by --discovery-token-ca-cert-hash (\`tug server\` prints the
hash, and writes the whole join command to DATA_DIR/join-command), or against
--ca-file. Without either the agent refuses to start, unless told
--discovery-token-unsafe-skip-ca-verification.

Options:
  --server URL          an API server (https://HOST:PORT); repeat it (or give a comma-separated
                        list) to name every server of an HA cluster: the agent uses one and
                        moves to the next when it cannot be reached
  --token T             bearer token for the API server
  --discovery-token-ca-cert-hash sha256:HEX
                        the cluster CA's public key hash (repeatable); the CA is read
                        from the server's TLS chain and kept only if it matches
  --ca-file FILE        CA to verify the server with (with a hash too, it must match it)
  --discovery-token-unsafe-skip-ca-verification
                        do not verify the server: the CA it presents is trusted as
                        it is (anyone in the middle gets the token)
  --kubeconfig FILE     credentials, server and CA from a kubeconfig instead
  --data-dir DIR        agent state (default ${DEFAULT_AGENT_DATA_DIR})
  --node-name N         Node name (default: the host name)
  --node-bridge NAME    bridge for pods (default ${DEFAULT_NODE_BRIDGE})
  --pod-cidr CIDR       this node's pod range (default: the one the server's node IPAM
                        gives the Node from its --cluster-cidr)
  --node-ip IP          the node's address: its InternalIP, where its streaming endpoint
                        listens and other nodes send its pods' traffic (default: the
                        source address of the route to the server)
  --service-cidr CIDR   Service cluster IP range, as given to the server (default ${DEFAULT_SERVICE_CIDR})
  --service-node-port-range LOW-HIGH
                        the cluster's NodePort range, as given to the server
                        (default ${DEFAULT_NODE_PORT_RANGE[0]}-${DEFAULT_NODE_PORT_RANGE[1]}): this node's service proxy answers
                        those ports on every address of the machine, so it is
                        claimed here and a node of another tug cluster on this
                        machine with an overlapping range is refused
  --node-lease-duration-seconds N
                        the node Lease's duration, renewed every quarter of it (default 2);
                        the server's --node-monitor-grace-period is at least this long for this node
  --restart-hold-seconds N
                        on a clean stop (SIGTERM) that leaves pods running, the Lease's last
                        renewal lasts N seconds (default ${DEFAULT_RESTART_HOLD_SECONDS}; 0: none), so a restart
                        never makes the node Unknown; a machine that dies is still unreachable
                        after the grace period. Drain a node before stopping it for good
  -h, --help            show this help
`;

/** The API client of a --token agent, verifying the server as `trust` says before the token is ever sent. */
async function tokenClient(servers: string[], token: string, trust: ServerTrust): Promise<KubeClient> {
  if (trust.kind === 'unverified') {
    process.stderr.write('tug agent: warning: the API server is not verified (--discovery-token-unsafe-skip-ca-verification)\n');
    // The CA it presents is taken as it is and trusted from then on: the agent's own endpoint needs it.
    return new KubeClient({ server: servers[0]!, servers, token, ca: await firstAnswer(servers, discoverPresentedCa) });
  }
  return new KubeClient({ server: servers[0]!, servers, token, ca: await trustedServerCa(servers, trust) });
}

/**
 * The agent's API client: --kubeconfig's; a node certificate (kept in the data
 * dir, or TLS-bootstrapped with a bootstrap token: agent/tls-bootstrap.ts); or
 * any other --token used as it is (a static token).
 */
async function agentClient(v: AgentFlags, servers: string[], trust: ServerTrust, nodeName: string): Promise<{ client: KubeClient; rotation?: ClientCertRotation }> {
  const source = credentialSource(v);
  if (source === 'kubeconfig') return { client: await KubeClient.fromKubeconfig(v.kubeconfig!) };
  if (source === 'static-token') return { client: await tokenClient(servers, v.token!, trust) };
  if (trust.kind === 'unverified') throw invalid('TLS bootstrapping with a bootstrap token needs the server CA: give --discovery-token-ca-cert-hash or --ca-file');
  const creds = await nodeCredentials({
    server: servers[0]!,
    servers,
    dataDir: v['data-dir']!,
    nodeName,
    token: v.token,
    pins: trust.kind === 'pinned' ? trust.pins : undefined,
    bootstrapCa: async () => {
      const ca = await trustedServerCa(servers, trust);
      if (!ca) throw invalid('TLS bootstrapping needs the server CA: give --discovery-token-ca-cert-hash or --ca-file');
      return ca;
    },
    log: (m) => process.stderr.write(`tug agent: ${m}\n`),
  });
  if (creds.bootstrapped) process.stdout.write(`tug agent: joined as system:node:${nodeName} (client certificate in ${join(v['data-dir']!, NODE_KUBECONFIG)})\n`);
  else process.stdout.write(`tug agent: using the node certificate in ${join(v['data-dir']!, NODE_KUBECONFIG)}\n`);
  return creds;
}

/** The agent plus its node services (service proxy and cluster DNS, which fill in its pods' Service variables and DNS); close() stops both (services first, so their rules go before the bridge). */
export async function withNodeServices(agent: RunningAgent, o: Omit<NodeServicesOptions, 'serviceEnv' | 'podDns'>): Promise<RunningAgent> {
  const { startNodeServices } = await import('./node-services.js');
  let services: NodeServices | undefined;
  try {
    services = await startNodeServices({ manageKubeDnsService: true, log: (m) => process.stderr.write(`tug server: ${m}\n`), ...o, serviceEnv: agent.serviceEnv, podDns: agent.podDns });
  } catch (err) {
    process.stderr.write(`tug server: node services: ${messageOf(err)}\n`);
  }
  return {
    ...agent,
    async close() {
      // Held before the services' teardown, which can take seconds on a loaded machine.
      await agent.holdForStop();
      await services?.close();
      traceAgent?.('stop: node services closed');
      await agent.close();
    },
  };
}

/**
 * Pods here resolve through the kube-dns Service; an agent makes it when the
 * server has none (a server without its own node). Every node answers its own
 * pods behind that address (node-services.ts), so its Endpoints matter little.
 */
async function useClusterDns(client: KubeClient, podDns: PodDns, serviceCidr: string, podCidr: string): Promise<void> {
  const ref = { group: '', version: 'v1', resource: 'services', namespace: 'kube-system' };
  let svc = await client.getOrNull<{ spec?: { clusterIP?: string } }>(ref, 'kube-dns').catch(() => null);
  if (!svc) {
    await ensureKubeDnsService(client, serviceCidr, bridgeGatewayIp(podCidr)).catch(() => undefined);
    svc = await client.getOrNull<{ spec?: { clusterIP?: string } }>(ref, 'kube-dns').catch(() => null);
  }
  const ip = svc?.spec?.clusterIP;
  if (ip && ip !== 'None') podDns.setClusterDns(ip);
}

/** The cluster a kubeconfig's server belongs to: its CA's hash (what a join command pins), when it names one. */
export async function clusterOf(kubeconfig: string): Promise<string | undefined> {
  const ca = (await KubeClient.readKubeconfig(kubeconfig).catch(() => undefined))?.ca;
  return ca ? caCertHash(ca) : undefined;
}

export async function runAgentCommand(argv: string[]): Promise<void> {
  const stopped = stopSignal({ repeatExits: true });
  let values: AgentFlags;
  let trust: ServerTrust;
  let leaseDurationSeconds: number | undefined;
  let restartHoldSeconds: number | undefined;
  let nodePortRange: [number, number];
  try {
    values = parseAgentFlags(argv);
    if (values.help) {
      process.stdout.write(agentHelp);
      return;
    }
    if (!values.kubeconfig && !values.server?.length) throw invalid('--server (with --token to join) or --kubeconfig is required');
    // Without a token, an agent that joined before uses its kept certificate and the CA beside it.
    trust = agentTrust(values);
    leaseDurationSeconds = positiveInt(values['node-lease-duration-seconds'], '--node-lease-duration-seconds');
    restartHoldSeconds = positiveInt(values['restart-hold-seconds'], '--restart-hold-seconds', true);
    nodePortRange = parseNodePortRange(values['service-node-port-range']!);
  } catch (err) {
    process.stderr.write(`tug agent: ${messageOf(err)}\n\n${agentHelp}`);
    process.exitCode = 2;
    return;
  }
  traceAgent?.('process started', performance.timeOrigin);
  traceAgent?.('modules loaded');
  let running: RunningAgent;
  let claims: HeldClaim | undefined;
  let rotation: ClientCertRotation | undefined;
  try {
    // This machine's bridge and pod range must not be another tug node's.
    claims = await claimNodeResources({ command: 'tug agent', dataDir: values['data-dir']!, bridge: values['node-bridge']!, podCidr: values['pod-cidr'] });
    const servers = agentServers(values);
    const nodeName = agentNodeName(values);
    let client: KubeClient;
    ({ client, rotation } = await agentClient(values, servers, trust, nodeName));
    traceAgent?.('credentials loaded');
    // Its service proxy answers the cluster's NodePorts on every address here: another cluster's nodes on this
    // machine must not use them. Nodes of this cluster (same CA) serve the same ports and may share them.
    await claims.extend({ nodePortRange, cluster: await clusterOf(values.kubeconfig ?? join(values['data-dir']!, NODE_KUBECONFIG)) });
    const bridge = values['node-bridge']!;
    const started = await startAgent({ client, dataDir: values['data-dir']!, nodeName: values['node-name'], bridgeName: bridge, podCidr: values['pod-cidr'], nodeIp: values['node-ip'], leaseDurationSeconds, restartHoldSeconds });
    // Service proxy and cluster DNS on this node too; only the server owns the kube-dns Service.
    running = await withNodeServices(started, { client, bridge, podCidr: started.podCidr, clusterCidr: started.clusterCidr, serviceCidr: values['service-cidr']!, manageKubeDnsService: false });
    traceAgent?.('node services started');
    await useClusterDns(client, running.podDns, values['service-cidr']!, started.podCidr);
  } catch (err) {
    process.stderr.write(`tug agent: ${messageOf(err)}\n`);
    await claims?.release();
    process.exitCode = 1;
    return;
  }
  rotation?.start();
  process.stdout.write(`tug agent: node ${running.nodeName} registered\n`);
  await stopped;
  traceAgent?.('stop: signal received');
  rotation?.stop();
  await running.close();
  traceAgent?.('stop: closed');
  await claims?.release();
  traceAgent?.('stop: exiting');
  // Pods keep running across an agent restart, and the engine still waits on each
  // one's exit (a watch and a poll): those must not hold the process open.
  process.exit();
}
