// Auto-approval of node certificates, as kube-controller-manager's csrapproving
// controller (kubelet client certs) and the approvers clusters add for kubelet
// serving certs do. Approved, never denied: anything else stays Pending for a
// person (kubectl certificate approve|deny).
//   kube-apiserver-client-kubelet: subject CN=system:node:<name>, O=system:nodes,
//     no SANs, usages within {digital signature, key encipherment, client auth};
//     asked by a bootstrap token (a new node) or by system:node:<name> itself (renewal).
//   kubelet-serving: same subject, usages within {digital signature, key encipherment,
//     server auth}, asked by system:node:<name>, every SAN one of the Node's addresses.
import type { ObjectStore } from '../object-store.js';
import type { TypeMonitors } from '../type-monitors.js';
import { WorkQueue } from '../../kube/client/work-queue.js';
import type { KObject } from '../../kube/api/resource-type.js';
import { csrType, isApproved, isDenied, isFailed, KUBELET_SERVING, KUBE_APISERVER_CLIENT_KUBELET } from '../../kube/api/certificates-types.js';
import { parseCsrPem, type ParsedCsr } from '../../kube/pki/x509.js';
import { BOOTSTRAPPERS_GROUP } from '../../kube/api/bootstrap-token.js';
import { runReconcileLoop } from '../../kube/client/reconcile-loop.js';

const NODE_PREFIX = 'system:node:';
const clientUsages = new Set(['digital signature', 'key encipherment', 'client auth']);
const servingUsages = new Set(['digital signature', 'key encipherment', 'server auth']);
/** How long a serving request whose SANs do not (yet) match its Node's addresses is looked at again. */
const SERVING_RETRY_WINDOW_MS = 10 * 60_000;

/** The node a request's subject names, when it is exactly CN=system:node:<name>, O=system:nodes. */
function nodeSubject(req: ParsedCsr): string | undefined {
  if (!req.commonName.startsWith(NODE_PREFIX) || req.commonName.length === NODE_PREFIX.length) return undefined;
  if (req.organizations.length !== 1 || req.organizations[0] !== 'system:nodes') return undefined;
  return req.commonName.slice(NODE_PREFIX.length);
}

const usagesWithin = (usages: unknown, allowed: Set<string>, needed: string) => Array.isArray(usages) && usages.includes(needed) && usages.every((u) => allowed.has(String(u)));

export class CsrApprover {
  readonly queue = new WorkQueue({ baseDelayMs: 200, maxDelayMs: 10_000 });

  constructor(
    private readonly objects: ObjectStore,
    monitors: TypeMonitors,
    private readonly log: (m: string) => void = () => undefined,
  ) {
    monitors.addHandlers({
      onUpsert: (t, o) => {
        if (t.kind === 'CertificateSigningRequest' && o.metadata.name) this.queue.add(o.metadata.name);
      },
    });
  }

  start(): void {
    runReconcileLoop(this.queue, 'csr approver', (name) => this.reconcile(name), 2, this.log);
  }

  stop(): void {
    this.queue.shutdown();
  }

  async reconcile(name: string): Promise<void> {
    const csr = await this.objects.getOrNull(csrType, undefined, name);
    if (!csr || isApproved(csr) || isDenied(csr) || isFailed(csr)) return;
    let req: ParsedCsr;
    try {
      req = parseCsrPem(Buffer.from(String(csr.spec?.request ?? ''), 'base64').toString());
    } catch {
      return;
    }
    const node = nodeSubject(req);
    if (!node) return;
    const spec = csr.spec ?? {};
    const groups: string[] = spec.groups ?? [];
    let reason: string | undefined;
    if (spec.signerName === KUBE_APISERVER_CLIENT_KUBELET) {
      if (req.dnsNames.length || req.ipAddresses.length || req.emailAddresses.length || req.uris.length) return;
      if (!usagesWithin(spec.usages, clientUsages, 'client auth')) return;
      if (spec.username === req.commonName) reason = 'AutoApproved: a node renewing its own client certificate';
      else if (groups.includes(BOOTSTRAPPERS_GROUP)) reason = 'AutoApproved: a new node joining with a bootstrap token';
    } else if (spec.signerName === KUBELET_SERVING) {
      if (spec.username !== req.commonName || req.emailAddresses.length || req.uris.length) return;
      if (!usagesWithin(spec.usages, servingUsages, 'server auth')) return;
      const sans = [...req.dnsNames, ...req.ipAddresses];
      if (!sans.length) return;
      if (!(await this.sansMatchNode(node, sans))) {
        // The Node may not have posted its addresses yet.
        const age = Date.now() - Date.parse(csr.metadata?.creationTimestamp ?? '');
        if (age < SERVING_RETRY_WINDOW_MS) this.queue.addAfter(name, 2000);
        return;
      }
      reason = "AutoApproved: the node's serving certificate names only its own addresses";
    }
    if (!reason || !(await req.verifySignature())) return;
    await this.approve(csr, reason);
  }

  private async sansMatchNode(node: string, sans: string[]): Promise<boolean> {
    const n = await this.objects.getOrNull(this.objects.registry.lookup('', 'v1', 'nodes')!, undefined, node);
    const addresses = new Set(((n?.status?.addresses ?? []) as Array<{ address?: string }>).map((a) => a.address));
    return sans.every((s) => addresses.has(s));
  }

  private async approve(csr: KObject, message: string): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const next = structuredClone(csr);
    next.status ??= {};
    next.status.conditions = [...(next.status.conditions ?? []), { type: 'Approved', status: 'True', reason: 'AutoApproved', message, lastUpdateTime: now, lastTransitionTime: now }];
    await this.objects.update(csrType, undefined, csr.metadata!.name!, next, { fieldManager: 'certificatesigningrequest-approving-controller', subresource: 'approval' });
  }
}
