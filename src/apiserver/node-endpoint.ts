// Where a node's agent (its streaming endpoint, the kubelet's :10250) listens:
// the node's InternalIP and the port it posts as daemonEndpoints.kubeletEndpoint.
// Agents listen on their node's address, so the API server reaches agents on
// other machines there; 127.0.0.1 only for a node that posts no address.
import type { KObject } from '../kube/api/resource-type.js';

export interface NodeEndpoint {
  host: string;
  port: number;
}

/** The node's agent endpoint, or undefined when the node posts no port (no agent yet). */
export function nodeAgentEndpoint(node: KObject | null | undefined): NodeEndpoint | undefined {
  const port = Number(node?.status?.daemonEndpoints?.kubeletEndpoint?.Port);
  if (!port) return undefined;
  const addresses = (node?.status?.addresses ?? []) as Array<{ type: string; address: string }>;
  return { host: addresses.find((a) => a.type === 'InternalIP')?.address ?? '127.0.0.1', port };
}
