// The PersistentVolume controller, as kube-controller-manager's
// persistentvolume-binder with the pvc-protection and pv-protection
// controllers folded in. Level-triggered: claims and volumes each have a key
// in one work queue ("claim:ns/name", "volume:name"); every reconcile reads
// the cached objects and takes the next step towards
//   claim.spec.volumeName = pv  <->  pv.spec.claimRef = claim (with its uid),
// both phases Bound and pv.kubernetes.io/bind-completed on the claim.
// The volume side is written first, so a crash between the two writes leaves
// a volume pre-bound to the claim, which the next claim sync completes. A
// volume whose claim is gone goes Released and then follows its reclaim
// policy: Retain keeps it; Delete removes a local-path volume (its node's
// agent removes the directory, then the finalizer); anything else goes
// Failed, as Kubernetes' binder does without a deleter plugin.
import { runReconcileLoop } from '../../kube/client/reconcile-loop.js';
import type { KubeApi, KubeObject } from '../../kube/client/kube-client.js';
import { WorkQueue } from '../../kube/client/work-queue.js';
import { isKind } from '../../errdefs.js';
import { refs, inNs, type SharedInformers } from '../../kube/client/shared-informers.js';
import {
  BETA_STORAGE_PROVISIONER,
  BIND_COMPLETED,
  BOUND_BY_CONTROLLER,
  LOCAL_PATH_PROVISIONER,
  NO_PROVISIONER,
  PROVISIONED_BY,
  PV_PROTECTION,
  PVC_PROTECTION,
  SELECTED_NODE,
  STORAGE_PROVISIONER,
  claimClass,
  podClaimNames,
  volumeBoundToClaim,
} from '../../kube/api/storage.js';
import { nowIso } from '../pod-state.js';
import { findBestMatch, unsatisfiedBy } from './binding-match.js';
import { storageRefs } from './storage-refs.js';
import { VolumeEvents } from './volume-events.js';

export const PV_CONTROLLER = 'persistentvolume-controller';
const claimKey = (ns: string | undefined, name: string) => `claim:${ns}/${name}`;

export class PersistentVolumeController {
  readonly queue = new WorkQueue({ name: 'volumes', baseDelayMs: 200, maxDelayMs: 30_000 });
  private readonly events: VolumeEvents;

  constructor(
    private readonly informers: SharedInformers,
    private readonly client: KubeApi,
  ) {
    this.events = new VolumeEvents(client, PV_CONTROLLER);
    const claim = (c: KubeObject) => this.queue.add(claimKey(c.metadata.namespace, c.metadata.name!));
    const volume = (v: KubeObject) => {
      this.queue.add(`volume:${v.metadata.name}`);
      const ref = v.spec?.claimRef;
      if (ref?.name) this.queue.add(claimKey(ref.namespace, ref.name));
    };
    informers.for(storageRefs.pvcs).addHandlers({
      onAdd: claim,
      onUpdate: claim,
      onDelete: (c) => {
        // Its volume becomes Released.
        for (const v of this.informers.for(storageRefs.pvs).list()) if (volumeBoundToClaim(v, c)) this.queue.add(`volume:${v.metadata.name}`);
      },
    });
    informers.for(storageRefs.pvs).addHandlers({ onAdd: volume, onUpdate: volume, onDelete: volume });
    // A class made after its claims: they can be provisioned now.
    const pending = () => {
      for (const c of this.informers.for(storageRefs.pvcs).list()) if (!c.spec?.volumeName) claim(c);
    };
    informers.for(storageRefs.classes).addHandlers({ onAdd: pending, onUpdate: pending });
    // A claim being deleted waits for the last pod that uses it (pvc-protection).
    const podEvent = (p: KubeObject) => {
      for (const name of podClaimNames(p)) {
        const c = this.informers.for(storageRefs.pvcs).get(`${p.metadata.namespace}/${name}`);
        if (c?.metadata.deletionTimestamp) claim(c);
      }
    };
    informers.for(refs.pods).addHandlers({ onUpdate: podEvent, onDelete: podEvent });
  }

  run(workers = 2): void {
    runReconcileLoop(this.queue, PV_CONTROLLER, (k) => this.reconcile(k), workers);
  }

  stop(): void {
    this.queue.shutdown();
  }

  async reconcile(key: string): Promise<void> {
    if (key.startsWith('claim:')) return this.syncClaim(key.slice('claim:'.length));
    if (key.startsWith('volume:')) return this.syncVolume(key.slice('volume:'.length));
  }

  // ---- claims ----

  private async syncClaim(key: string): Promise<void> {
    const pvc = this.informers.for(storageRefs.pvcs).get(key);
    if (!pvc) return;
    if (pvc.metadata.deletionTimestamp) return this.releaseClaimProtection(pvc);
    if (!pvc.spec?.volumeName) return this.syncUnboundClaim(pvc);
    return this.syncBoundClaim(pvc);
  }

  private async syncUnboundClaim(pvc: KubeObject): Promise<void> {
    const cls = claimClass(pvc);
    const sc = cls ? this.informers.for(storageRefs.classes).get(cls) : undefined;
    const delay = sc?.volumeBindingMode === 'WaitForFirstConsumer';
    const pv = findBestMatch(this.informers.for(storageRefs.pvs).list(), pvc, { delayBinding: delay });
    if (pv) return this.bind(pv, pvc);
    if (!cls) {
      this.events.emit('PersistentVolumeClaim', pvc, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      return;
    }
    if (!sc) {
      this.events.emit('PersistentVolumeClaim', pvc, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${cls}" not found`);
      return;
    }
    if ((delay && !pvc.metadata.annotations?.[SELECTED_NODE]) || (delay && sc.provisioner === NO_PROVISIONER)) {
      this.events.emit('PersistentVolumeClaim', pvc, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
      return;
    }
    // Static volumes only: the claim waits for an administrator to make one.
    if (sc.provisioner === NO_PROVISIONER) return;
    // Dynamic provisioning: name the provisioner on the claim; the provisioner
    // (tug's own for local-path, or an external one) makes a volume pre-bound to it.
    const annotations = pvc.metadata.annotations ?? {};
    if (annotations[STORAGE_PROVISIONER] !== sc.provisioner || annotations[BETA_STORAGE_PROVISIONER] !== sc.provisioner) {
      await this.client.patch(inNs(storageRefs.pvcs, pvc.metadata.namespace), pvc.metadata.name!, {
        metadata: { resourceVersion: pvc.metadata.resourceVersion, annotations: { [STORAGE_PROVISIONER]: sc.provisioner, [BETA_STORAGE_PROVISIONER]: sc.provisioner } },
      });
    }
    this.events.emit(
      'PersistentVolumeClaim',
      pvc,
      'Normal',
      'ExternalProvisioning',
      `Waiting for a volume to be created either by the external provisioner '${sc.provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    );
  }

  private async syncBoundClaim(pvc: KubeObject): Promise<void> {
    const name = pvc.spec.volumeName as string;
    let pv = this.informers.for(storageRefs.pvs).get(name);
    pv ??= (await this.client.getOrNull(storageRefs.pvs, name)) ?? undefined;
    if (!pv) {
      if (pvc.metadata.annotations?.[BIND_COMPLETED]) {
        await this.setClaimStatus(pvc, { phase: 'Lost' });
        this.events.emit('PersistentVolumeClaim', pvc, 'Warning', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
      }
      // Not bound yet: the claim names a volume that does not exist (yet); it stays Pending.
      return;
    }
    if (!pv.spec?.claimRef) {
      // The user named the volume in the claim: bind the volume to it, if it fits.
      const why = unsatisfiedBy(pv, pvc);
      if (why) {
        this.events.emit('PersistentVolumeClaim', pvc, 'Warning', 'VolumeMismatch', `Cannot bind to requested volume "${name}": ${why}`);
        return;
      }
      return this.bind(pv, pvc);
    }
    if (volumeBoundToClaim(pv, pvc)) return this.bind(pv, pvc);
    if (pvc.metadata.annotations?.[BIND_COMPLETED]) {
      await this.setClaimStatus(pvc, { phase: 'Lost' });
      this.events.emit('PersistentVolumeClaim', pvc, 'Warning', 'ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly');
      return;
    }
    this.events.emit('PersistentVolumeClaim', pvc, 'Warning', 'FailedBinding', `volume "${name}" already bound to a different claim.`);
  }

  /**
   * Completes the binding in both directions; every step is skipped when
   * already done, so it is what every sync of a bound pair runs.
   */
  private async bind(pv: KubeObject, pvc: KubeObject): Promise<void> {
    const ns = pvc.metadata.namespace!;
    const ref = pv.spec?.claimRef;
    if (!ref || !volumeBoundToClaim(pv, pvc) || ref.uid !== pvc.metadata.uid) {
      const patch: Record<string, any> = {
        metadata: { resourceVersion: pv.metadata.resourceVersion },
        spec: { claimRef: { kind: 'PersistentVolumeClaim', namespace: ns, name: pvc.metadata.name, uid: pvc.metadata.uid, apiVersion: 'v1', resourceVersion: pvc.metadata.resourceVersion } },
      };
      if (!ref) patch.metadata.annotations = { [BOUND_BY_CONTROLLER]: 'yes' };
      pv = await this.client.patch(storageRefs.pvs, pv.metadata.name!, patch);
    }
    await this.setVolumePhase(pv, 'Bound');
    const annotations = pvc.metadata.annotations ?? {};
    if (pvc.spec?.volumeName !== pv.metadata.name || annotations[BIND_COMPLETED] !== 'yes') {
      const meta: Record<string, any> = { resourceVersion: pvc.metadata.resourceVersion, annotations: { [BIND_COMPLETED]: 'yes' } };
      if (pvc.spec?.volumeName !== pv.metadata.name) meta.annotations[BOUND_BY_CONTROLLER] = 'yes';
      pvc = await this.client.patch(inNs(storageRefs.pvcs, ns), pvc.metadata.name!, { metadata: meta, spec: { volumeName: pv.metadata.name } });
    }
    const want = { phase: 'Bound', capacity: pv.spec?.capacity ?? {}, accessModes: pv.spec?.accessModes ?? [] };
    const cur = pvc.status ?? {};
    if (cur.phase !== want.phase || JSON.stringify(cur.capacity) !== JSON.stringify(want.capacity) || JSON.stringify(cur.accessModes) !== JSON.stringify(want.accessModes)) {
      await this.setClaimStatus(pvc, want);
    }
  }

  private async setClaimStatus(pvc: KubeObject, status: Record<string, unknown>): Promise<void> {
    if (pvc.status?.phase === status.phase && Object.keys(status).length === 1) return;
    await this.client.patch(inNs(storageRefs.pvcs, pvc.metadata.namespace), pvc.metadata.name!, { status }, { subresource: 'status' });
  }

  /** pvc-protection: the finalizer goes once no pod that has not finished names the claim. */
  private async releaseClaimProtection(pvc: KubeObject): Promise<void> {
    const finalizers: string[] = (pvc.metadata.finalizers as string[] | undefined) ?? [];
    if (!finalizers.includes(PVC_PROTECTION)) return;
    const ns = pvc.metadata.namespace!;
    const uses = (p: KubeObject) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && podClaimNames(p).includes(pvc.metadata.name!);
    if (this.informers.for(refs.pods).list().some((p) => p.metadata.namespace === ns && uses(p))) return;
    // The cache may lag behind a pod just made: ask the server before letting go, as Kubernetes does.
    const live = await this.client.list(inNs(refs.pods, ns));
    if (live.items.some(uses)) return;
    await this.client.patch(inNs(storageRefs.pvcs, ns), pvc.metadata.name!, { metadata: { resourceVersion: pvc.metadata.resourceVersion, finalizers: finalizers.filter((f) => f !== PVC_PROTECTION) } });
  }

  // ---- volumes ----

  private async syncVolume(name: string): Promise<void> {
    const pv = this.informers.for(storageRefs.pvs).get(name);
    if (!pv) return;
    const deleting = Boolean(pv.metadata.deletionTimestamp);
    const ref = pv.spec?.claimRef;
    if (!ref) await this.setVolumePhase(pv, 'Available');
    else if (!ref.uid) {
      // Pre-bound by a user to a claim that is not bound yet; the claim's sync binds it.
      await this.setVolumePhase(pv, 'Available');
    } else {
      let claim = this.informers.for(storageRefs.pvcs).get(`${ref.namespace}/${ref.name}`);
      // The cache may not have seen a claim just made: ask the server before releasing.
      if (!claim || claim.metadata.uid !== ref.uid) claim = (await this.client.getOrNull(inNs(storageRefs.pvcs, ref.namespace), ref.name)) ?? undefined;
      if (claim && claim.metadata.uid === ref.uid) {
        if (!claim.spec?.volumeName) this.queue.add(claimKey(ref.namespace, ref.name));
        else if (claim.spec.volumeName === name) await this.setVolumePhase(pv, 'Bound');
        else await this.unbind(pv);
      } else if (!deleting) await this.reclaim(pv);
      else await this.setVolumePhase(pv, 'Released');
    }
    if (deleting) await this.releaseVolumeProtection(name);
  }

  /** The claim is gone: Released, then the reclaim policy. */
  private async reclaim(pv: KubeObject): Promise<void> {
    const name = pv.metadata.name!;
    if (pv.status?.phase === 'Failed') return;
    await this.setVolumePhase(pv, 'Released');
    const policy = pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    if (policy === 'Retain') return;
    const by = pv.metadata.annotations?.[PROVISIONED_BY];
    if (policy === 'Delete' && by === LOCAL_PATH_PROVISIONER) {
      // The node's agent removes the directory, then its finalizer: the object goes after that.
      await this.client.delete(storageRefs.pvs, name, { uid: pv.metadata.uid }).catch((err) => {
        if (!isKind(err, 'not-found') && !isKind(err, 'conflict')) throw err;
      });
      return;
    }
    // An external provisioner deletes what it made.
    if (policy === 'Delete' && by) return;
    const message = policy === 'Delete' ? `error getting deleter volume plugin for volume "${name}": no deletable volume plugin matched` : 'No recycler plugin found for the volume!';
    await this.setVolumePhase(pv, 'Failed', message);
    this.events.emit('PersistentVolume', pv, 'Warning', policy === 'Delete' ? 'VolumeFailedDelete' : 'VolumeFailedRecycle', message);
  }

  /** The claim went to another volume: a controller-made binding is undone; a user's keeps the claim's name. */
  private async unbind(pv: KubeObject): Promise<void> {
    const byController = pv.metadata.annotations?.[BOUND_BY_CONTROLLER];
    const patch = byController
      ? { metadata: { resourceVersion: pv.metadata.resourceVersion, annotations: { [BOUND_BY_CONTROLLER]: null } }, spec: { claimRef: null } }
      : { metadata: { resourceVersion: pv.metadata.resourceVersion }, spec: { claimRef: { uid: null, resourceVersion: null } } };
    const next = await this.client.patch(storageRefs.pvs, pv.metadata.name!, patch);
    await this.setVolumePhase(next, 'Available');
  }

  private async setVolumePhase(pv: KubeObject, phase: string, message?: string): Promise<void> {
    if (pv.status?.phase === phase && (pv.status?.message ?? undefined) === message) return;
    await this.client.patch(storageRefs.pvs, pv.metadata.name!, { status: { phase, message: message ?? null, lastPhaseTransitionTime: nowIso() } }, { subresource: 'status' });
  }

  /** pv-protection: a volume being deleted keeps the finalizer while a claim is bound to it. */
  private async releaseVolumeProtection(name: string): Promise<void> {
    const pv = (await this.client.getOrNull(storageRefs.pvs, name)) ?? undefined;
    const finalizers: string[] = (pv?.metadata.finalizers as string[] | undefined) ?? [];
    if (!pv || !finalizers.includes(PV_PROTECTION) || pv.status?.phase === 'Bound') return;
    await this.client.patch(storageRefs.pvs, name, { metadata: { resourceVersion: pv.metadata.resourceVersion, finalizers: finalizers.filter((f) => f !== PV_PROTECTION) } });
  }
}

