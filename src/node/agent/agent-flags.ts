// `tug agent`'s command line: its flags and what they say about where the
// agent's credentials come from. Read by the agent (run-agent.ts) and by its
// early Lease renewal (node/early-lease.ts), which must find the same
// credentials, servers and node name the agent will; that one loads only
// modules built on node: built-ins: keep this file and its imports that way.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_NODE_PORT_RANGE } from '../../kube/api/node-port-range.js';
import { parseBootstrapToken } from '../../kube/api/bootstrap-token.js';

export const DEFAULT_NODE_BRIDGE = 'tugpod0';
/** The server's default --service-cidr; a standalone agent must use the same range. */
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';
export const DEFAULT_AGENT_DATA_DIR = '/var/lib/tug-agent';

const agentOptions = {
  server: { type: 'string', multiple: true },
  token: { type: 'string' },
  kubeconfig: { type: 'string' },
  'ca-file': { type: 'string' },
  'discovery-token-ca-cert-hash': { type: 'string', multiple: true },
  'discovery-token-unsafe-skip-ca-verification': { type: 'boolean', default: false },
  'data-dir': { type: 'string', default: DEFAULT_AGENT_DATA_DIR },
  'node-name': { type: 'string' },
  'node-bridge': { type: 'string', default: DEFAULT_NODE_BRIDGE },
  'pod-cidr': { type: 'string' },
  'node-ip': { type: 'string' },
  'service-cidr': { type: 'string', default: DEFAULT_SERVICE_CIDR },
  'node-lease-duration-seconds': { type: 'string' },
  'restart-hold-seconds': { type: 'string' },
  'service-node-port-range': { type: 'string', default: `${DEFAULT_NODE_PORT_RANGE[0]}-${DEFAULT_NODE_PORT_RANGE[1]}` },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Parses `tug agent`'s arguments (throws on an unknown flag or a missing value, as parseArgs does). */
export function parseAgentFlags(argv: string[]) {
  return parseArgs({ args: argv, options: agentOptions, strict: true }).values;
}

export type AgentFlags = ReturnType<typeof parseAgentFlags>;

/** Several --server values (or one comma-separated): every API server of the cluster, tried in turn (kube-client.ts). */
export const agentServers = (v: AgentFlags): string[] => (v.server ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);

export const agentNodeName = (v: AgentFlags): string => v['node-name'] || hostname().toLowerCase();

/**
 * Where the agent's API credentials come from: --kubeconfig's; a --token that
 * is not a bootstrap token, used as a plain bearer token; else the node
 * certificate kept in the data dir (made by TLS bootstrapping with the
 * bootstrap token, when there is none yet).
 */
export type CredentialSource = 'kubeconfig' | 'static-token' | 'node-certificate';

export function credentialSource(v: AgentFlags): CredentialSource {
  if (v.kubeconfig) return 'kubeconfig';
  if (v.token && !parseBootstrapToken(v.token)) return 'static-token';
  return 'node-certificate';
}
