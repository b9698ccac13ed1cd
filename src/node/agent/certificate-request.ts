// Asking the cluster for a certificate, as the kubelet's certificate manager
// does: post a CertificateSigningRequest for a key this node keeps, then wait
// until the request carries a certificate (approved and signed), is Denied or
// Failed, or the wait is given up (timeout or abort: an agent stopping).
import { randomBytes } from 'node:crypto';
import { TugError } from '../../errdefs.js';
import type { KubeApi, KubeObject } from '../../kube/client/kube-client.js';
import { createCsrPem, type SubjectRequest } from '../../kube/pki/x509.js';

export const csrRef = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' };

export interface CertificateRequest {
  keyPem: string;
  subject: SubjectRequest;
  signerName: string;
  usages: string[];
  /** Name prefix of the CSR object ("node-csr-", "node-serving-"). */
  namePrefix: string;
  expirationSeconds?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

const condition = (csr: KubeObject, type: string) => ((csr.status as { conditions?: Array<{ type: string; status?: string; message?: string }> } | undefined)?.conditions ?? []).find((c) => c.type === type && c.status !== 'False');

/** The issued certificate (PEM) and the name of the request that got it. */
export async function requestCertificate(client: KubeApi, r: CertificateRequest): Promise<{ certPem: string; csrName: string }> {
  const request = await createCsrPem(r.keyPem, r.subject);
  const name = `${r.namePrefix}${randomBytes(5).toString('hex')}`;
  await client.create(csrRef, {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: { request: Buffer.from(request).toString('base64'), signerName: r.signerName, usages: r.usages, ...(r.expirationSeconds ? { expirationSeconds: r.expirationSeconds } : {}) },
  });
  const deadline = Date.now() + (r.timeoutMs ?? 15 * 60_000);
  for (;;) {
    if (r.signal?.aborted) throw new TugError('unavailable', `stopped waiting for certificate request ${name}`);
    const csr = await client.getOrNull(csrRef, name).catch((err: unknown) => {
      // The server may be briefly unreachable (a restart, a link flap): keep waiting until the deadline.
      if (err instanceof TugError && err.kind === 'unavailable') return undefined;
      throw err;
    });
    if (csr === null) throw new TugError('not-found', `certificate request ${name} was deleted before it was issued`);
    const cert = (csr?.status as { certificate?: string } | undefined)?.certificate;
    if (cert) return { certPem: Buffer.from(cert, 'base64').toString(), csrName: name };
    if (csr) {
      const denied = condition(csr, 'Denied') ?? condition(csr, 'Failed');
      if (denied) throw new TugError('forbidden', `certificate request ${name} was ${denied.type === 'Denied' ? 'denied' : 'not signed'}${denied.message ? `: ${denied.message}` : ''}`);
    }
    if (Date.now() > deadline) throw new TugError('unavailable', `certificate request ${name} was not issued within ${Math.round((r.timeoutMs ?? 900_000) / 1000)}s (approve it with: kubectl certificate approve ${name})`);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        r.signal?.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, 500);
      r.signal?.addEventListener('abort', done, { once: true });
    });
  }
}
