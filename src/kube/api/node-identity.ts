// How a node agent is known to the API server: the user system:node:<name> in
// the group system:nodes (what TLS bootstrapping puts in its client
// certificate), and the few tug objects of kube-system a node reads or writes
// besides what a kubelet does: its node password Secret (node-identity.ts of
// the agent) and the cluster network ConfigMap the node IPAM publishes.
export const NODES_GROUP = 'system:nodes';
export const NODE_USER_PREFIX = 'system:node:';

/** The node a user is, when it is one (both the name form and the group, as Kubernetes' node identifier asks). */
export function nodeNameOf(u: { name: string; groups: string[] }): string | undefined {
  if (!u.name.startsWith(NODE_USER_PREFIX) || !u.groups.includes(NODES_GROUP)) return undefined;
  const name = u.name.slice(NODE_USER_PREFIX.length);
  return name || undefined;
}

/** kube-system/<node>.node-password.tug: the hash of the agent's node password. */
export const nodePasswordSecretName = (node: string): string => `${node}.node-password.tug`;

/** kube-system/tug-network: the cluster CIDR and overlay backend, for every node. */
export const CLUSTER_NETWORK_CONFIGMAP = 'tug-network';
