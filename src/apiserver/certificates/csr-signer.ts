// The signer of approved CertificateSigningRequests for the signers this
// cluster owns (kubelet client and serving certs, API server client certs),
// as kube-controller-manager's csrsigning controller: the cluster CA signs the
// request's subject and SANs with the usages asked for, for
// --cluster-signing-duration or the shorter spec.expirationSeconds, and never
// past the CA's own end. A request whose signature does not verify gets a
// Failed condition instead.
import { X509Certificate } from 'node:crypto';
import type { ObjectStore } from '../object-store.js';
import type { TypeMonitors } from '../type-monitors.js';
import { WorkQueue } from '../../kube/client/work-queue.js';
import type { KObject } from '../../kube/api/resource-type.js';
import { csrType, isApproved, isDenied, isFailed, knownSigners } from '../../kube/api/certificates-types.js';
import { parseCsrPem, signCsr, type SigningCa } from '../../kube/pki/x509.js';
import { runReconcileLoop } from '../../kube/client/reconcile-loop.js';

/** Kubernetes' --cluster-signing-duration default: one year. */
export const DEFAULT_CLUSTER_SIGNING_DURATION_MS = 8760 * 3600_000;

export interface CsrSignerOptions {
  ca: SigningCa;
  /** --cluster-signing-duration. */
  signingDurationMs?: number;
  log?: (m: string) => void;
}

const stamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export class CsrSigner {
  readonly queue = new WorkQueue({ baseDelayMs: 200, maxDelayMs: 10_000 });
  private readonly caNotAfter: number;

  constructor(
    private readonly objects: ObjectStore,
    monitors: TypeMonitors,
    private readonly o: CsrSignerOptions,
  ) {
    this.caNotAfter = Date.parse(new X509Certificate(o.ca.certPem).validTo);
    monitors.addHandlers({
      onUpsert: (t, obj) => {
        if (t.kind === 'CertificateSigningRequest' && obj.metadata.name) this.queue.add(obj.metadata.name);
      },
    });
  }

  start(): void {
    runReconcileLoop(this.queue, 'csr signer', (name) => this.reconcile(name), 2, (m) => this.o.log?.(m));
  }

  stop(): void {
    this.queue.shutdown();
  }

  async reconcile(name: string): Promise<void> {
    const csr = await this.objects.getOrNull(csrType, undefined, name);
    if (!csr || !isApproved(csr) || isDenied(csr) || isFailed(csr) || csr.status?.certificate) return;
    if (!knownSigners.includes(csr.spec?.signerName)) return;
    const pem = Buffer.from(String(csr.spec?.request ?? ''), 'base64').toString();
    const req = parseCsrPem(pem);
    if (!(await req.verifySignature())) return this.fail(csr, 'SignatureInvalid', 'the request is not signed by the key it carries');
    const durationMs = Math.min(this.o.signingDurationMs ?? DEFAULT_CLUSTER_SIGNING_DURATION_MS, csr.spec?.expirationSeconds ? csr.spec.expirationSeconds * 1000 : Infinity);
    const notAfter = new Date(Math.min(Date.now() + durationMs, this.caNotAfter));
    const cert = await signCsr(pem, this.o.ca, { usages: csr.spec?.usages ?? [], notAfter });
    const next = structuredClone(csr);
    next.status = { ...(next.status ?? {}), certificate: Buffer.from(cert).toString('base64') };
    await this.objects.update(csrType, undefined, name, next, { fieldManager: 'certificatesigningrequest-signing-controller', subresource: 'status' });
  }

  private async fail(csr: KObject, reason: string, message: string): Promise<void> {
    const next = structuredClone(csr);
    next.status ??= {};
    next.status.conditions = [...(next.status.conditions ?? []), { type: 'Failed', status: 'True', reason, message, lastUpdateTime: stamp(), lastTransitionTime: stamp() }];
    await this.objects.update(csrType, undefined, csr.metadata!.name!, next, { fieldManager: 'certificatesigningrequest-signing-controller', subresource: 'status' });
  }
}
