// The agent's serving certificate, as the kubelet gets one with
// serverTLSBootstrap: a key of its own and a CertificateSigningRequest for
// signer kubernetes.io/kubelet-serving (CN=system:node:<name>, O=system:nodes,
// SANs: the node's InternalIP and host name, usages digital signature, key
// encipherment, server auth), which the cluster approves when every SAN is
// one of the Node's posted addresses (apiserver/certificates/csr-approver.ts)
// and the cluster CA signs. Key and certificate live together in
// DATA_DIR/kubelet-server-current.pem (0600, written atomically: a crash
// leaves the old pair or the new one); a restart reuses them while they are
// valid, issued by the cluster's CA and name the same addresses. Renewal
// happens at the same point of the lifetime as the client certificate's
// (tls-bootstrap.ts: 70-90%, or TUG_AGENT_CERT_ROTATION_FRACTION), without a
// restart: listeners hear of the new pair and new TLS connections use it.
// Until the cluster has issued one, the endpoint serves a self-signed
// placeholder that no API server trusts (its calls fail with the reason),
// as a kubelet waiting for its serving certificate serves none.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeApi } from '../../kube/client/kube-client.js';
import { newPrivateKeyPem, selfSignedPem } from '../../kube/pki/x509.js';
import { KUBELET_SERVING } from '../../kube/api/certificates-types.js';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { requestCertificate } from './certificate-request.js';
import { CertificateRenewal } from './certificate-renewal.js';

export const SERVING_CERT_FILE = 'kubelet-server-current.pem';
const servingUsages = ['digital signature', 'key encipherment', 'server auth'];

export interface ServingCertOptions {
  client: KubeApi;
  dataDir: string;
  nodeName: string;
  /** The cluster CA (PEM): a kept certificate another CA issued is not reused. */
  ca: string;
  ipAddresses: string[];
  dnsNames: string[];
  log?: (m: string) => void;
}

export interface ServingPair {
  cert: string;
  key: string;
}

const pemBlock = (text: string, type: string) => text.match(new RegExp(`-----BEGIN ${type}-----[\\s\\S]+?-----END ${type}-----\\n?`))?.[0];

/** "DNS:a, IP Address:1.2.3.4" → the names, sorted. */
const sansOf = (cert: X509Certificate) =>
  (cert.subjectAltName ?? '')
    .split(', ')
    .map((s) => s.replace(/^(DNS|IP Address):/, ''))
    .filter(Boolean)
    .sort();

/** The kept pair, when it is still good for this node, this CA and these addresses. */
async function readKept(o: ServingCertOptions): Promise<ServingPair | undefined> {
  const text = await readFile(join(o.dataDir, SERVING_CERT_FILE), 'utf8').catch(() => '');
  const cert = pemBlock(text, 'CERTIFICATE');
  const key = pemBlock(text, 'PRIVATE KEY');
  if (!cert || !key) return undefined;
  try {
    const x = new X509Certificate(cert);
    const ca = new X509Certificate(o.ca);
    if (Date.parse(x.validTo) <= Date.now() || !x.checkIssued(ca) || !x.verify(ca.publicKey)) return undefined;
    if (!x.checkPrivateKey(createPrivateKey(key))) return undefined;
    if (!x.subject.split('\n').includes(`CN=system:node:${o.nodeName}`)) return undefined;
    if (sansOf(x).join(',') !== [...o.ipAddresses, ...o.dnsNames].sort().join(',')) return undefined;
    return { cert, key };
  } catch {
    return undefined;
  }
}

export class ServingCertificate {
  private readonly renewal: CertificateRenewal;
  private readonly listeners: Array<(p: ServingPair) => void> = [];
  private readonly waiters: Array<() => void> = [];
  /** Certificates the cluster issued while this agent ran (for logs and tests). */
  issuedHere = 0;

  private constructor(
    private readonly o: ServingCertOptions,
    private pair: ServingPair,
    /** Whether `pair` was issued by the cluster (false: the self-signed placeholder). */
    private issued: boolean,
  ) {
    this.renewal = new CertificateRenewal({ current: () => this.pair.cert, renew: (signal) => this.renew(signal), what: 'serving certificate request', log: o.log });
  }

  /** The kept pair when it is still good, else a placeholder until start() gets one issued. */
  static async load(o: ServingCertOptions): Promise<ServingCertificate> {
    const kept = await readKept(o);
    if (kept) return new ServingCertificate(o, kept, true);
    const key = await newPrivateKeyPem();
    const cert = await selfSignedPem(key, { commonName: `system:node:${o.nodeName}`, ipAddresses: o.ipAddresses, dnsNames: o.dnsNames });
    return new ServingCertificate(o, { cert, key }, false);
  }

  get current(): ServingPair {
    return this.pair;
  }

  /** Whether the current pair is the kept one or was issued already (false: the placeholder). */
  get isIssued(): boolean {
    return this.issued;
  }

  /** Called with every new pair. */
  onChange(fn: (p: ServingPair) => void): void {
    this.listeners.push(fn);
  }

  /** Asks for a certificate now when there is none, and renews it at its rotation point from then on. */
  start(): void {
    this.renewal.start(this.issued ? undefined : 0);
  }

  /** Resolves true once an issued certificate is served, false after timeoutMs. */
  ready(timeoutMs: number): Promise<boolean> {
    if (this.issued) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  stop(): void {
    this.renewal.stop();
  }

  private async renew(signal: AbortSignal): Promise<void> {
    const o = this.o;
    const key = await newPrivateKeyPem();
    const { certPem, csrName } = await requestCertificate(o.client, {
      keyPem: key,
      subject: { commonName: `system:node:${o.nodeName}`, organizations: ['system:nodes'], ipAddresses: o.ipAddresses, dnsNames: o.dnsNames },
      signerName: KUBELET_SERVING,
      usages: servingUsages,
      namePrefix: 'node-serving-',
      signal,
      timeoutMs: 15 * 60_000,
    });
    if (signal.aborted) return;
    await writeFileAtomic(join(o.dataDir, SERVING_CERT_FILE), `${certPem.trimEnd()}\n${key}`, 0o600);
    this.pair = { cert: certPem, key };
    const first = !this.issued;
    this.issued = true;
    this.issuedHere++;
    for (const fn of this.listeners) fn(this.pair);
    for (const w of this.waiters.splice(0)) w();
    o.log?.(`serving certificate ${first ? 'issued' : 'renewed'} (${csrName}), valid until ${new X509Certificate(certPem).validTo}`);
  }
}
