// A node's network (and per-pod network) for the dashboard's plots. Neither
// metrics.k8s.io nor the agent's /stats/summary carries network, and the API
// server has no nodes/proxy route, so the dashboard asks the node's agent
// itself for its cAdvisor metrics (GET /metrics/cadvisor: container_network_*
// per pod, and the node's own under id="/"), with the user's own token: the
// agent checks it with a TokenReview and a SubjectAccessReview for
// nodes/metrics on that node, as the kubelet does, so RBAC still decides.
// The node's address comes from the Node object, read with the same token.
// The agent serves HTTPS only, with a certificate the cluster CA issued for
// the node's address: verified here as the API server verifies it.
import { request } from 'node:https';
import type { ServerResponse, IncomingMessage } from 'node:http';
import { nodeAgentEndpoint } from '../apiserver/node-endpoint.js';
import { kubeJson, type KubeTarget } from './kube-upstream.js';
import { relayResponse, relayRequest } from './relay.js';

const nodeName = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function fail(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ message }));
}

/** Relays GET /metrics/cadvisor of node's agent, asked with token. */
export async function proxyNodeMetrics(t: KubeTarget, token: string, node: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!nodeName.test(node)) return fail(res, 400, `"${node}" is not a node name`);
  const { status, json } = await kubeJson(t, token, 'GET', `/api/v1/nodes/${node}`);
  if (status !== 200) return fail(res, status, json?.message ?? `reading node ${node} answered ${status}`);
  const at = nodeAgentEndpoint(json);
  if (!at) return fail(res, 503, `node ${node} has no agent endpoint (no agent has registered it yet)`);
  const up = request({ host: at.host, port: at.port, ca: t.ca, rejectUnauthorized: true, path: '/metrics/cadvisor', method: 'GET', headers: { authorization: `Bearer ${token}`, accept: 'text/plain' } }, (r) => relayResponse(r, res));
  relayRequest(up, req, res, (message) => ({ message: `node ${node}'s agent did not answer: ${message}` }));
}
