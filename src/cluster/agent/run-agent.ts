// Starting a node agent with its own engine: embedded in `tug server` (with
// the server's kubeconfig) or standalone as `tug agent --server URL --token T`.
// The engine lives in DATA_DIR/engine and serves the Docker API on
// DATA_DIR/engine.sock, so `docker -H unix://...` can look inside the node.
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { Engine } from '../../engine/engine.js';
import { recoverContainers } from '../../engine/recovery.js';
import { serveDockerApi } from '../../engine/api/server.js';
import { preflight } from '../../engine/preflight.js';
import { ensureDir } from '../../util/dir-mode.js';
import { invalid, messageOf } from '../../errdefs.js';
import { KubeClient } from '../client/kube-client.js';
import { NodeAgent } from './node-agent.js';
import { machineFacts } from './node-status.js';
import { startAgentServer, type AgentServer } from './agent-server.js';
import { AgentAuth } from './agent-auth.js';
import { setClusterDns } from '../dns/pod-dns.js';

export const DEFAULT_NODE_BRIDGE = 'tugpod0';
export const DEFAULT_POD_CIDR = '10.89.0.0/16';
/** The server's default --service-cidr; a standalone agent must use the same range. */
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';

export interface AgentOptions {
  client: KubeClient;
  dataDir: string;
  nodeName?: string;
  bridgeName?: string;
  podCidr?: string;
  log?: (msg: string) => void;
}

export interface RunningAgent {
  agent: NodeAgent;
  engine: Engine;
  nodeName: string;
  /** Stops the agent; when no container is left, also removes the node's network. */
  close(): Promise<void>;
}

export async function startAgent(o: AgentOptions): Promise<RunningAgent> {
  await preflight();
  // 0700: the node's engine, its socket and the pods' secret volumes live here.
  await ensureDir(o.dataDir, 0o700);
  const nodeName = o.nodeName || hostname().toLowerCase();
  const podCidr = o.podCidr ?? DEFAULT_POD_CIDR;
  const engine = await Engine.open({ root: join(o.dataDir, 'engine'), bridgeName: o.bridgeName ?? DEFAULT_NODE_BRIDGE, subnet: podCidr });
  await recoverContainers(engine);
  const socket = join(o.dataDir, 'engine.sock');
  await rm(socket, { force: true });
  const api = await serveDockerApi(engine, socket);
  let server: AgentServer | undefined;
  let agent: NodeAgent | undefined;
  try {
    // Callers of the streaming endpoint are checked through the API server (TokenReview + SubjectAccessReview).
    server = await startAgentServer(engine, new AgentAuth({ client: o.client, nodeName }));
    agent = new NodeAgent({ client: o.client, engine, dataDir: o.dataDir, facts: machineFacts(nodeName, podCidr, server.port), log: o.log });
    server.setExecs(agent.execs);
    await agent.start();
  } catch (err) {
    await agent?.stop();
    await server?.close();
    await api.close();
    throw err;
  }
  const a = agent;
  const s = server;
  return {
    agent: a,
    engine,
    nodeName,
    async close() {
      await a.stop();
      await s.close();
      await api.close();
      await rm(socket, { force: true });
      if (engine.containers.all().length === 0) {
        await engine.network.destroy().catch((err) => o.log?.(`network: ${messageOf(err)}`));
        await engine.releaseHostState().catch(() => undefined);
      }
    },
  };
}

const agentHelp = `Usage: tug agent --server URL (--token T | --kubeconfig FILE) [OPTIONS]

Runs a node agent: registers this machine as a Node and runs the pods the
scheduler binds to it, through its own engine. Its streaming endpoint (logs,
exec, attach, port-forward) on 127.0.0.1 serves only callers whose bearer
token the API server confirms (TokenReview) and who may use nodes/proxy on
this node (SubjectAccessReview), so the agent's own credentials need the
rights of system:auth-delegator besides a node's.

Options:
  --server URL          the API server (https://HOST:PORT)
  --token T             bearer token for the API server
  --kubeconfig FILE     credentials (and server) from a kubeconfig instead
  --ca-file FILE        CA to verify the server with (default: not verified)
  --data-dir DIR        agent state (default /var/lib/tug-agent)
  --node-name N         Node name (default: the host name)
  --node-bridge NAME    bridge for pods (default ${DEFAULT_NODE_BRIDGE})
  --pod-cidr CIDR       pod address range (default ${DEFAULT_POD_CIDR})
  --service-cidr CIDR   Service cluster IP range, as given to the server (default ${DEFAULT_SERVICE_CIDR})
  -h, --help            show this help
`;

/** Pods here resolve through the kube-dns Service the server made (if it exists yet). */
async function useServerClusterDns(client: KubeClient): Promise<void> {
  const svc = await client.getOrNull<{ spec?: { clusterIP?: string } }>({ group: '', version: 'v1', resource: 'services', namespace: 'kube-system' }, 'kube-dns').catch(() => null);
  const ip = svc?.spec?.clusterIP;
  if (ip && ip !== 'None') setClusterDns(ip);
}

export async function runAgentCommand(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        server: { type: 'string' },
        token: { type: 'string' },
        kubeconfig: { type: 'string' },
        'ca-file': { type: 'string' },
        'data-dir': { type: 'string', default: '/var/lib/tug-agent' },
        'node-name': { type: 'string' },
        'node-bridge': { type: 'string', default: DEFAULT_NODE_BRIDGE },
        'pod-cidr': { type: 'string', default: DEFAULT_POD_CIDR },
        'service-cidr': { type: 'string', default: DEFAULT_SERVICE_CIDR },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
    if (values.help) {
      process.stdout.write(agentHelp);
      return;
    }
    if (!values.kubeconfig && !(values.server && values.token)) throw invalid('--server and --token (or --kubeconfig) are required');
  } catch (err) {
    process.stderr.write(`tug agent: ${messageOf(err)}\n\n${agentHelp}`);
    process.exitCode = 2;
    return;
  }
  let running: RunningAgent;
  try {
    const client = values.kubeconfig
      ? await KubeClient.fromKubeconfig(values.kubeconfig)
      : new KubeClient({ server: values.server!, token: values.token, ca: values['ca-file'] ? await (await import('node:fs/promises')).readFile(values['ca-file'], 'utf8') : undefined });
    const bridge = values['node-bridge']!;
    const podCidr = values['pod-cidr']!;
    const { withNodeServices } = await import('../proxy/node-services.js');
    // Service proxy and cluster DNS on this node too; only the server owns the kube-dns Service.
    running = await withNodeServices(await startAgent({ client, dataDir: values['data-dir']!, nodeName: values['node-name'], bridgeName: bridge, podCidr }), { client, bridge, podCidr, serviceCidr: values['service-cidr']!, manageKubeDnsService: false });
    await useServerClusterDns(client);
  } catch (err) {
    process.stderr.write(`tug agent: ${messageOf(err)}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`tug agent: node ${running.nodeName} registered\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await running.close();
}
