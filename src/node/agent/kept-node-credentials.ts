// Whether a node's kept kubeconfig (DATA_DIR/node.kubeconfig, written at TLS
// bootstrapping) can still be used, and with which servers. Shared by the
// agent (tls-bootstrap.ts) and its early Lease renewal (node/early-lease.ts),
// which may import only modules built on node: built-ins.
import { X509Certificate } from 'node:crypto';
import type { KubeClientOptions } from '../../kube/client/kube-client.js';
import { caCertHash } from '../../kube/client/ca-pin.js';

export const NODE_KUBECONFIG = 'node.kubeconfig';

export const nodeSubject = (nodeName: string) => ({ commonName: `system:node:${nodeName}`, organizations: ['system:nodes'] });

/**
 * The kept credentials, pointed at `server` (and `servers`), when they hold a
 * certificate, key and CA, the certificate has not expired and was made for
 * this node name, and the CA matches a pin if any was given; else undefined
 * (the agent then bootstraps again).
 */
export function usableNodeCredentials(opts: KubeClientOptions | undefined, nodeName: string, pins: string[] | undefined, server: string, servers?: string[]): KubeClientOptions | undefined {
  if (!opts?.cert || !opts.key || !opts.ca) return undefined;
  const cert = new X509Certificate(opts.cert);
  if (Date.parse(cert.validTo) <= Date.now()) return undefined;
  // Another --node-name than the one it was made for: that node's certificate is no use to this one.
  if (!cert.subject.split('\n').includes(`CN=${nodeSubject(nodeName).commonName}`)) return undefined;
  if (pins?.length && !pins.includes(caCertHash(opts.ca))) return undefined;
  // Another --server than the one it was made for: the same cluster as long as the CA matches (above).
  return { ...opts, server, servers };
}
