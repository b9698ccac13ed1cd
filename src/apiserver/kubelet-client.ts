// The API server as a client of node agents (kube-apiserver's kubelet client):
// every call to an agent (pods/log, exec, attach, port-forward through
// pod-proxy.ts; resource metrics through metrics-scraper.ts) goes over TLS,
// presents the API server's client certificate (CN=kube-apiserver-kubelet-client,
// signed by the cluster CA: the agent verifies it and asks the API server,
// through a SubjectAccessReview, whether that user may use nodes/proxy), and
// verifies the agent's serving certificate against the cluster CA and the
// node's address (an IP SAN for the InternalIP the Node posts). An agent
// whose certificate does not verify is an error (502 Bad Gateway, with the
// TLS reason), never a fall back to plain HTTP.
import { request, type RequestOptions } from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { TugError, messageOf } from '../errdefs.js';
import type { NodeEndpoint } from './node-endpoint.js';

/** The user the API server is to node agents; bootstrap binds it to system:kubelet-api-admin. */
export const KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';

export interface KubeletClientTls {
  /** The cluster CA: agents' serving certificates must chain to it. */
  ca: string;
  /** The API server's client certificate towards agents, and its key. */
  cert: string;
  key: string;
}

/** OpenSSL verification codes Node reports: the agent answered, but its certificate is not one to trust. */
const verificationCodes = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_PURPOSE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const where = (e: NodeEndpoint) => `https://${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;

/** A failed call to an agent as the API server's error: 502 when its certificate does not verify, 503 when it cannot be reached. */
export function agentConnectError(e: NodeEndpoint, err: unknown, nodeName?: string): TugError {
  const code = (err as { code?: string }).code ?? '';
  const who = `node${nodeName ? ` ${nodeName}` : ''}'s agent at ${where(e)}`;
  if (verificationCodes.has(code)) {
    return new TugError('unavailable', `${who}: its serving certificate is not trusted (${code}: ${messageOf(err)}); it must be issued by the cluster CA for the node's address (kubectl get csr)`, { code: 502, reason: 'BadGateway' });
  }
  return new TugError('unavailable', `${who}: ${messageOf(err)}`);
}

/** TLS options for a connection to the agent at `e`: the CA to verify it with, and the API server's client certificate. */
export function agentTlsOptions(tls: KubeletClientTls, e: NodeEndpoint): ConnectionOptions {
  // No servername: agents are addressed by IP, whose SAN Node checks against `host`.
  return { host: e.host, port: e.port, ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: true };
}

/** An HTTPS request to an agent; errors of the connection come out mapped by agentConnectError. */
export function agentRequest(tls: KubeletClientTls, e: NodeEndpoint, o: Omit<RequestOptions, 'host' | 'port'>, onResponse: (res: IncomingMessage) => void, onError: (err: TugError) => void, nodeName?: string): ClientRequest {
  const req = request({ ...agentTlsOptions(tls, e), agent: false, ...o }, onResponse);
  req.on('error', (err) => onError(err instanceof TugError ? err : agentConnectError(e, err, nodeName)));
  return req;
}

/** A verified TLS connection to an agent (for upgrades: exec, attach, port-forward). */
export function agentConnect(tls: KubeletClientTls, e: NodeEndpoint, nodeName?: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect(agentTlsOptions(tls, e));
    socket.once('secureConnect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => reject(agentConnectError(e, err, nodeName)));
  });
}
