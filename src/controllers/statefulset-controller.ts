// StatefulSet controller: pods with stable names <set>-<ordinal>, hostname =
// pod name and subdomain = spec.serviceName (so the headless Service gives
// each one a DNS name), one PersistentVolumeClaim per volumeClaimTemplate and
// ordinal (<template>-<set>-<ordinal>, made before its pod and kept unless
// persistentVolumeClaimRetentionPolicy says Delete), and ControllerRevision
// history (controller-history.ts).
//
// As Kubernetes' stateful_set_control.go, one reconcile: compute the
// revisions; create missing pods in ordinal order (OrderedReady: one at a
// time, each Running and Ready (and available for minReadySeconds) before the
// next; Parallel: all at once); delete pods above the replica count highest
// ordinal first; then the RollingUpdate (pods at or above the partition, from
// the highest ordinal down, at most maxUnavailable unavailable at once: a
// deleted pod comes back at the update revision) or nothing for OnDelete; and
// write status. Pods have fixed names, so repeating a step after a crash or on
// a stale cache meets "already exists" or an already-deleting pod: no
// expectations are needed.
import type { KubeApi, KubeObject, ResourceRef } from '../kube/client/kube-client.js';
import { keyOf } from '../kube/client/informer.js';
import { WorkQueue } from '../kube/client/work-queue.js';
import { isKind, messageOf } from '../errdefs.js';
import { refs, inNs, type SharedInformers } from '../kube/client/shared-informers.js';
import { controllerOf, isPodAvailable, isPodReady, podReadySince, type OwnerRef } from './pod-state.js';
import { ownerRefOf } from './replicaset-controller.js';
import { resolveIntOrPercent } from './deployment-controller.js';
import { ControllerHistory, revisionHashLabel, revisionTemplate } from './controller-history.js';
import { claimObjects, ownersSelecting } from './claim-objects.js';
import { recordEvent } from './owner-events.js';

export const statefulSetsRef: ResourceRef = { group: 'apps', version: 'v1', resource: 'statefulsets' };
const claimsRef: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };

const component = 'statefulset-controller';

export const podNameLabel = 'statefulset.kubernetes.io/pod-name';
export const podIndexLabel = 'apps.kubernetes.io/pod-index';

const isRunningAndReady = (p: KubeObject): boolean => p.status?.phase === 'Running' && isPodReady(p);
const isTerminating = (p: KubeObject): boolean => Boolean(p.metadata.deletionTimestamp);
const isFinished = (p: KubeObject): boolean => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';
const revisionOfPod = (p: KubeObject): string | undefined => p.metadata.labels?.[revisionHashLabel];

/** The ordinal in a pod name <set>-<n>, or -1 for a name that is not one of the set's. */
export function ordinalOf(setName: string, podName: string): number {
  if (!podName.startsWith(`${setName}-`)) return -1;
  const rest = podName.slice(setName.length + 1);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : -1;
}

export const claimName = (templateName: string, setName: string, ordinal: number): string => `${templateName}-${setName}-${ordinal}`;

export class StatefulSetController {
  readonly queue = new WorkQueue({ name: 'statefulset', baseDelayMs: 200, maxDelayMs: 30_000 });
  private readonly history: ControllerHistory;

  constructor(
    private readonly informers: SharedInformers,
    private readonly client: KubeApi,
  ) {
    this.history = new ControllerHistory(informers, client, { kind: 'StatefulSet', ref: statefulSetsRef });
    informers.for(statefulSetsRef).addHandlers({ onAdd: (o) => this.queue.add(keyOf(o)), onUpdate: (o) => this.queue.add(keyOf(o)) });
    const podEvent = (p: KubeObject): void => {
      const c = controllerOf(p);
      if (c?.kind === 'StatefulSet') this.queue.add(`${p.metadata.namespace}/${c.name}`);
      else if (!c) for (const k of ownersSelecting(informers, statefulSetsRef, p)) this.queue.add(k);
    };
    informers.for(refs.pods).addHandlers({ onAdd: podEvent, onUpdate: podEvent, onDelete: podEvent });
    // A stale claim being collected holds its pod back: its deletion is worth a look.
    informers.for(claimsRef).addHandlers({ onDelete: (pvc) => ownersSelecting(informers, statefulSetsRef, pvc).forEach((k) => this.queue.add(k)) });
    this.history.watch((k) => this.queue.add(k));
  }

  run(workers = 2): void {
    void this.queue.run((k) => this.reconcile(k), workers, (k, err) => {
      if (!isKind(err, 'conflict') && !isKind(err, 'not-found') && !isKind(err, 'already-exists')) process.stderr.write(`statefulset-controller: ${k}: ${messageOf(err)}\n`);
    });
  }

  stop(): void {
    this.queue.shutdown();
  }

  async reconcile(key: string): Promise<void> {
    const set = this.informers.for(statefulSetsRef).get(key);
    if (!set || isTerminating(set)) return;
    const name = set.metadata.name!;
    const ns = set.metadata.namespace!;
    const { update, revisions } = await this.history.sync(set);
    const current = revisions.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
    const pods = await claimObjects(
      this.client,
      inNs(refs.pods, ns),
      this.informers.for(refs.pods).list().filter((p) => p.metadata.namespace === ns),
      set,
      { kind: 'StatefulSet', adoptable: (p) => ordinalOf(name, p.metadata.name!) >= 0 },
    );
    const start = Number(set.spec?.ordinals?.start ?? 0) || 0;
    const replicas: number = set.spec?.replicas ?? 1;
    const inRange = (ord: number): boolean => ord >= start && ord < start + replicas;
    const byOrdinal = new Map<number, KubeObject>();
    const condemned: KubeObject[] = [];
    for (const p of pods) {
      const ord = ordinalOf(name, p.metadata.name!);
      if (inRange(ord)) byOrdinal.set(ord, p);
      else condemned.push(p);
    }
    condemned.sort((a, b) => ordinalOf(name, b.metadata.name!) - ordinalOf(name, a.metadata.name!));

    const minReady = set.spec?.minReadySeconds ?? 0;
    const now = Date.now();
    const monotonic = set.spec?.podManagementPolicy !== 'Parallel';
    const healthy = (p: KubeObject): boolean => isRunningAndReady(p) && !isTerminating(p);
    const ctx: SetContext = { set, current, update, monotonic };
    let blocked = false;

    // 1. Pods in range, in ordinal order.
    for (let ord = start; ord < start + replicas && !blocked; ord++) {
      const p = byOrdinal.get(ord);
      if (!p) {
        await this.createPod(ctx, ord);
        blocked = monotonic;
      } else if (isFinished(p)) {
        // A failed (or finished) pod is replaced under the same name.
        await this.deletePod(set, p);
        blocked = monotonic;
      } else if (isTerminating(p) || !isRunningAndReady(p) || !isPodAvailable(p, minReady, now)) {
        blocked = monotonic;
      } else {
        await this.syncClaimOwners(set, p, ord, false);
      }
    }

    // 2. Pods above the replica count, highest ordinal first.
    if (!blocked) {
      const unhealthy = [...byOrdinal.values(), ...condemned].filter((p) => !healthy(p));
      for (const p of condemned) {
        if (isTerminating(p)) {
          if (monotonic) break;
          continue;
        }
        // OrderedReady: only while every other pod is healthy (the target itself may be the unhealthy one).
        if (monotonic && unhealthy.some((u) => u !== p)) break;
        await this.syncClaimOwners(set, p, ordinalOf(name, p.metadata.name!), true);
        await this.deletePod(set, p);
        if (monotonic) break;
      }
      blocked = monotonic && condemned.length > 0;
    }

    // 3. RollingUpdate: replace pods not at the update revision, from the highest ordinal down to the partition.
    const strategy = set.spec?.updateStrategy ?? {};
    if (!blocked && (strategy.type ?? 'RollingUpdate') === 'RollingUpdate') {
      const partition = Number(strategy.rollingUpdate?.partition ?? 0) || 0;
      const maxUnavailable = Math.max(1, resolveIntOrPercent(strategy.rollingUpdate?.maxUnavailable ?? 1, replicas, false, '1'));
      const unavailable = (p: KubeObject | undefined): boolean => !p || isTerminating(p) || !isRunningAndReady(p) || !isPodAvailable(p, minReady, now);
      let budget = maxUnavailable;
      for (let ord = start; ord < start + replicas; ord++) if (unavailable(byOrdinal.get(ord))) budget--;
      for (let ord = start + replicas - 1; ord >= start + partition; ord--) {
        const p = byOrdinal.get(ord);
        if (!p || isTerminating(p) || revisionOfPod(p) === update.metadata.name) continue;
        if (unavailable(p)) await this.deletePod(set, p);
        else if (budget > 0) {
          await this.deletePod(set, p);
          budget--;
        } else break;
      }
    }

    // minReadySeconds: look again when the next ready pod becomes available.
    if (minReady > 0) {
      const next = pods.map(podReadySince).filter((t): t is number => t !== undefined && t + minReady * 1000 > now);
      if (next.length) this.queue.addAfter(key, Math.min(...next) + minReady * 1000 - now + 50);
    }
    await this.writeStatus(set, pods, current, update, minReady, now);
    // History: keep the revisions pods still use, trim the rest to revisionHistoryLimit.
    const live = new Set([current.metadata.name!, update.metadata.name!, ...pods.map(revisionOfPod).filter((r): r is string => Boolean(r))]);
    await this.history.truncate(set, revisions, live);
  }

  /** The pod for an ordinal: current revision below the partition (RollingUpdate), else the update revision. */
  private async createPod(ctx: SetContext, ord: number): Promise<void> {
    const { set, current, update } = ctx;
    const strategy = set.spec?.updateStrategy ?? {};
    const start = Number(set.spec?.ordinals?.start ?? 0) || 0;
    const rolling = (strategy.type ?? 'RollingUpdate') === 'RollingUpdate';
    const partition = Number(strategy.rollingUpdate?.partition ?? 0) || 0;
    const useCurrent = rolling && (strategy.rollingUpdate ? ord < start + partition : ord < start + (set.status?.currentReplicas ?? 0));
    const revision = useCurrent ? current : update;
    const tpl = revisionTemplate(revision);
    const name = `${set.metadata.name}-${ord}`;
    const ns = set.metadata.namespace!;
    // A claim still owned by an earlier pod of this name is about to be collected (whenScaled: Delete): wait for it to go.
    if (!(await this.createClaims(set, ord))) return;
    const claimVolumes = ((set.spec?.volumeClaimTemplates ?? []) as KubeObject[]).map((ct) => ({ name: ct.metadata?.name, persistentVolumeClaim: { claimName: claimName(ct.metadata?.name ?? '', set.metadata.name!, ord) } }));
    const claimNames = new Set(claimVolumes.map((v) => v.name));
    const spec = { ...(tpl.spec ?? {}), hostname: name };
    if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
    const volumes = [...claimVolumes, ...((spec.volumes ?? []) as { name: string }[]).filter((v) => !claimNames.has(v.name))];
    if (volumes.length) spec.volumes = volumes;
    const body = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...(tpl.metadata ?? {}),
        name,
        namespace: ns,
        labels: { ...(tpl.metadata?.labels ?? {}), [podNameLabel]: name, [podIndexLabel]: String(ord), [revisionHashLabel]: revision.metadata.name },
        ownerReferences: [ownerRefOf(set, 'StatefulSet')],
      },
      spec,
    };
    delete (body.metadata as Record<string, unknown>).generateName;
    try {
      await this.client.create(inNs(refs.pods, ns), body);
      recordEvent(this.client, component, set, 'StatefulSet', 'Normal', 'SuccessfulCreate', `create Pod ${name} in StatefulSet ${set.metadata.name} successful`);
    } catch (err) {
      // Still there (terminating, or not yet in the cache): the next reconcile sees it.
      if (isKind(err, 'already-exists')) return;
      recordEvent(this.client, component, set, 'StatefulSet', 'Warning', 'FailedCreate', `create Pod ${name} in StatefulSet ${set.metadata.name} failed error: ${messageOf(err)}`);
      throw err;
    }
  }

  /**
   * One PVC per claim template for this ordinal, made before the pod (an
   * existing one is kept as it is). False when a claim is stale: owned by a
   * pod of this name that is gone (Kubernetes' PodClaimIsStale).
   */
  private async createClaims(set: KubeObject, ord: number): Promise<boolean> {
    const ns = set.metadata.namespace!;
    const podName = `${set.metadata.name}-${ord}`;
    let fresh = true;
    for (const ct of (set.spec?.volumeClaimTemplates ?? []) as KubeObject[]) {
      const name = claimName(ct.metadata?.name ?? '', set.metadata.name!, ord);
      const existing = this.informers.for(claimsRef).get(`${ns}/${name}`);
      if (existing) {
        if (((existing.metadata.ownerReferences as OwnerRef[] | undefined) ?? []).some((r) => r.kind === 'Pod' && r.name === podName)) fresh = false;
        continue;
      }
      const policy = retentionPolicy(set);
      const body = {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: {
          name,
          namespace: ns,
          labels: { ...(ct.metadata?.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) },
          ...(ct.metadata?.annotations ? { annotations: ct.metadata.annotations } : {}),
          ...(policy.whenDeleted === 'Delete' ? { ownerReferences: [ownerRefOf(set, 'StatefulSet')] } : {}),
        },
        spec: ct.spec ?? {},
      };
      try {
        await this.client.create(inNs(claimsRef, ns), body);
        recordEvent(this.client, component, set, 'StatefulSet', 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${podName} in StatefulSet ${set.metadata.name} success`);
      } catch (err) {
        if (isKind(err, 'already-exists')) continue;
        recordEvent(this.client, component, set, 'StatefulSet', 'Warning', 'FailedCreate', `create Claim ${name} for Pod ${podName} in StatefulSet ${set.metadata.name} failed error: ${messageOf(err)}`);
        throw err;
      }
    }
    return fresh;
  }

  /**
   * The claim's ownerReferences as persistentVolumeClaimRetentionPolicy asks
   * (Kubernetes' updateClaimOwnerRefForSetAndPod): the set owns its claims when
   * whenDeleted is Delete; a scaled-down pod owns its claims when whenScaled is
   * Delete, so the garbage collector removes them once the pod is gone.
   */
  private async syncClaimOwners(set: KubeObject, pod: KubeObject, ord: number, scaledDown: boolean): Promise<void> {
    const templates = (set.spec?.volumeClaimTemplates ?? []) as KubeObject[];
    if (!templates.length) return;
    const policy = retentionPolicy(set);
    const ns = set.metadata.namespace!;
    for (const ct of templates) {
      const claim = this.informers.for(claimsRef).get(`${ns}/${claimName(ct.metadata?.name ?? '', set.metadata.name!, ord)}`);
      if (!claim) continue;
      const cur = (claim.metadata.ownerReferences as OwnerRef[] | undefined) ?? [];
      const isOurs = (r: OwnerRef): boolean => (r.kind === 'StatefulSet' && r.name === set.metadata.name) || (r.kind === 'Pod' && r.name === pod.metadata.name);
      // Someone else controls it: leave their claim to them (our refs scrubbed).
      const foreign = cur.some((r) => r.controller && !isOurs(r));
      const want = cur.filter((r) => !isOurs(r));
      if (!foreign) {
        if (scaledDown && policy.whenScaled === 'Delete') want.push({ ...ownerRefOf(pod, 'Pod', 'v1') });
        else if (!scaledDown && policy.whenDeleted === 'Delete') want.push(ownerRefOf(set, 'StatefulSet'));
      }
      if (JSON.stringify(want) === JSON.stringify(cur)) continue;
      await this.client.patch(inNs(claimsRef, ns), claim.metadata.name!, { metadata: { ownerReferences: want.length ? want : null, resourceVersion: claim.metadata.resourceVersion } });
    }
  }

  private async deletePod(set: KubeObject, p: KubeObject): Promise<void> {
    try {
      await this.client.delete(inNs(refs.pods, p.metadata.namespace), p.metadata.name!, { uid: p.metadata.uid });
      recordEvent(this.client, component, set, 'StatefulSet', 'Normal', 'SuccessfulDelete', `delete Pod ${p.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    } catch (err) {
      if (!isKind(err, 'not-found') && !isKind(err, 'conflict')) throw err;
    }
  }

  private async writeStatus(set: KubeObject, pods: KubeObject[], current: KubeObject, update: KubeObject, minReady: number, now: number): Promise<void> {
    const replicas = set.spec?.replicas ?? 1;
    const status: Record<string, unknown> = {
      observedGeneration: set.metadata.generation,
      replicas: 0,
      readyReplicas: 0,
      currentReplicas: 0,
      updatedReplicas: 0,
      availableReplicas: 0,
      currentRevision: current.metadata.name,
      updateRevision: update.metadata.name,
      collisionCount: set.status?.collisionCount ?? 0,
    };
    const inc = (k: string): void => {
      status[k] = (status[k] as number) + 1;
    };
    for (const p of pods) {
      inc('replicas');
      if (isRunningAndReady(p)) {
        inc('readyReplicas');
        if (isPodAvailable(p, minReady, now)) inc('availableReplicas');
      }
      if (!isTerminating(p)) {
        if (revisionOfPod(p) === current.metadata.name) inc('currentReplicas');
        if (revisionOfPod(p) === update.metadata.name) inc('updatedReplicas');
      }
    }
    // The rollout is complete: the update revision becomes the current one.
    const rolling = (set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    if (rolling && status.updatedReplicas === replicas && status.readyReplicas === replicas && status.replicas === replicas) {
      status.currentReplicas = status.updatedReplicas;
      status.currentRevision = status.updateRevision;
    }
    const cur = set.status ?? {};
    if (Object.entries(status).every(([k, v]) => (cur[k] ?? 0) === (v ?? 0))) return;
    await this.client.patch(inNs(statefulSetsRef, set.metadata.namespace), set.metadata.name!, { status }, { subresource: 'status' });
  }
}

interface SetContext {
  set: KubeObject;
  current: KubeObject;
  update: KubeObject;
  monotonic: boolean;
}

function retentionPolicy(set: KubeObject): { whenDeleted: string; whenScaled: string } {
  const p = set.spec?.persistentVolumeClaimRetentionPolicy ?? {};
  return { whenDeleted: p.whenDeleted ?? 'Retain', whenScaled: p.whenScaled ?? 'Retain' };
}
