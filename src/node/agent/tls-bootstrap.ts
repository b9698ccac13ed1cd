// TLS bootstrapping of a joining node, as the kubelet does it: with a bootstrap
// token (system:bootstrappers, allowed only to ask for certificates) the agent
// makes its own key, asks for a kubernetes.io/kube-apiserver-client-kubelet
// certificate for CN=system:node:<name>, O=system:nodes, waits until the
// cluster's approver and signer issue it, and writes DATA_DIR/node.kubeconfig
// (server, CA, key and certificate; 0600). From then on it talks as
// system:node:<name>; a restart on the same data dir reuses that kubeconfig
// and needs no token, nor the server, before it starts. The certificate is
// renewed at a random point between 70% and 90% of its lifetime (the kubelet's
// jitter) through the same kind of request, now made as the node itself, and
// swapped into the running client without a restart.
// TUG_AGENT_CERT_ROTATION_FRACTION=F (0 < F < 1) renews at F of the lifetime
// instead (tests; Kubernetes' shortest certificate lives 10 minutes).
// The embedded agent of `tug server` holds the CA itself: its first client
// certificate is signed on the spot (as kubeadm writes a control-plane
// kubelet's kubelet.conf), and it is renewed like any node's.
import { CertificateRenewal } from './certificate-renewal.js';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { invalid, isKind, messageOf, TugError } from '../../errdefs.js';
import { KubeClient, type KubeClientOptions } from '../../kube/client/kube-client.js';
import { NODE_KUBECONFIG, nodeSubject, usableNodeCredentials } from './kept-node-credentials.js';
import { createCsrPem, newPrivateKeyPem, signCsr, type SigningCa } from '../../kube/pki/x509.js';
import { KUBE_APISERVER_CLIENT_KUBELET } from '../../kube/api/certificates-types.js';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { requestCertificate } from './certificate-request.js';

export { NODE_KUBECONFIG } from './kept-node-credentials.js';
const clientUsages = ['digital signature', 'client auth'];

export interface TlsBootstrapOptions {
  server: string;
  /** Every API server of the cluster (--server repeated), tried in turn by the client. */
  servers?: string[];
  dataDir: string;
  nodeName: string;
  /** The bootstrap token; needed only when the data dir holds no usable certificate. */
  token?: string;
  /** --discovery-token-ca-cert-hash pins: a kept kubeconfig whose CA matches none is from another cluster. */
  pins?: string[];
  /** The server CA to trust while bootstrapping (discovered and pinned, or --ca-file); called only then. */
  bootstrapCa(): Promise<string>;
  /** The cluster CA's certificate and key, when this process holds them (`tug server`'s own node): no token, no request. */
  signWith?: SigningCa;
  /** --cluster-signing-duration, for a certificate signed with signWith. */
  signingDurationMs?: number;
  log?: (m: string) => void;
}

export interface NodeCredentials {
  client: KubeClient;
  /** Renews the client certificate before it expires; stop() on shutdown. */
  rotation: ClientCertRotation;
  /** Whether this start asked for a new certificate (false: the kept one was reused). */
  bootstrapped: boolean;
}


async function readKept(path: string, nodeName: string, pins: string[] | undefined, server: string, servers?: string[]): Promise<KubeClientOptions | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  return usableNodeCredentials(await KubeClient.readKubeconfig(path).catch(() => undefined), nodeName, pins, server, servers);
}

async function writeNodeKubeconfig(path: string, o: { server: string; ca: string; cert: string; key: string; nodeName: string }): Promise<void> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const user = `system:node:${o.nodeName}`;
  const cfg = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'tug', cluster: { server: o.server, 'certificate-authority-data': b64(o.ca) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(o.cert), 'client-key-data': b64(o.key) } }],
    contexts: [{ name: 'tug', context: { cluster: 'tug', user } }],
    'current-context': 'tug',
  };
  await writeFileAtomic(path, stringify(cfg), 0o600);
}

const subjectOf = nodeSubject;

/** The node's API client: from the kept DATA_DIR/node.kubeconfig, or bootstrapped with the token. */
export async function nodeCredentials(o: TlsBootstrapOptions): Promise<NodeCredentials> {
  const path = join(o.dataDir, NODE_KUBECONFIG);
  const kept = await readKept(path, o.nodeName, o.pins, o.server, o.servers);
  if (kept) {
    const client = new KubeClient(kept);
    return { client, bootstrapped: false, rotation: new ClientCertRotation(client, { ...o, path, ca: kept.ca!, certPem: kept.cert! }) };
  }
  if (o.signWith) {
    const keyPem = await newPrivateKeyPem();
    const notAfter = new Date(Date.now() + (o.signingDurationMs ?? 8760 * 3600_000));
    const certPem = await signCsr(await createCsrPem(keyPem, subjectOf(o.nodeName)), o.signWith, { usages: clientUsages, notAfter });
    const ca = o.signWith.certPem;
    await writeNodeKubeconfig(path, { server: o.server, ca, cert: certPem, key: keyPem, nodeName: o.nodeName });
    const client = new KubeClient({ server: o.server, servers: o.servers, ca, cert: certPem, key: keyPem });
    return { client, bootstrapped: true, rotation: new ClientCertRotation(client, { ...o, path, ca, certPem }) };
  }
  if (!o.token) throw invalid(`${path} holds no valid node certificate: give --token (a bootstrap token: tug token create) to join`);
  const ca = await o.bootstrapCa();
  const bootstrap = new KubeClient({ server: o.server, servers: o.servers, ca, token: o.token });
  const keyPem = await newPrivateKeyPem();
  let certPem: string;
  try {
    o.log?.(`asking for a client certificate for system:node:${o.nodeName}`);
    ({ certPem } = await requestCertificate(bootstrap, { keyPem, subject: subjectOf(o.nodeName), signerName: KUBE_APISERVER_CLIENT_KUBELET, usages: clientUsages, namePrefix: 'node-csr-' }));
  } catch (err) {
    if (isKind(err, 'unauthorized')) throw new TugError('unauthorized', `the API server refused the bootstrap token (401 Unauthorized): it is unknown, expired or deleted; make a new one on the server with tug token create`);
    if (isKind(err, 'forbidden')) throw new TugError('forbidden', `the bootstrap token may not ask for a node certificate: ${messageOf(err)}`);
    throw err;
  } finally {
    bootstrap.close();
  }
  await writeNodeKubeconfig(path, { server: o.server, ca, cert: certPem, key: keyPem, nodeName: o.nodeName });
  const client = new KubeClient({ server: o.server, servers: o.servers, ca, cert: certPem, key: keyPem });
  return { client, bootstrapped: true, rotation: new ClientCertRotation(client, { ...o, path, ca, certPem }) };
}

interface RotationState extends TlsBootstrapOptions {
  path: string;
  ca: string;
  certPem: string;
}

export class ClientCertRotation {
  private readonly renewal: CertificateRenewal;
  /** Renewals so far (for logs and tests). */
  rotations = 0;

  constructor(
    private readonly client: KubeClient,
    private state: RotationState,
  ) {
    this.renewal = new CertificateRenewal({ current: () => this.state.certPem, renew: (signal) => this.rotate(signal), what: 'client certificate renewal', log: state.log });
  }

  start(): void {
    this.renewal.start();
  }

  stop(): void {
    this.renewal.stop();
  }

  private async rotate(signal: AbortSignal): Promise<void> {
    const o = this.state;
    const keyPem = await newPrivateKeyPem();
    const { certPem, csrName } = await requestCertificate(this.client, {
      keyPem,
      subject: subjectOf(o.nodeName),
      signerName: KUBE_APISERVER_CLIENT_KUBELET,
      usages: clientUsages,
      namePrefix: 'node-csr-',
      signal,
      timeoutMs: 5 * 60_000,
    });
    if (signal.aborted) return;
    await writeNodeKubeconfig(o.path, { server: o.server, ca: o.ca, cert: certPem, key: keyPem, nodeName: o.nodeName });
    this.client.setClientCertificate(certPem, keyPem);
    this.state = { ...o, certPem };
    this.rotations++;
    o.log?.(`client certificate renewed (${csrName}), valid until ${new X509Certificate(certPem).validTo}`);
  }
}
