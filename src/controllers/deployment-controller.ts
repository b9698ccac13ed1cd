// Deployment controller: one ReplicaSet per pod template (named and labelled
// by pod-template-hash), rolled with RollingUpdate (maxSurge/maxUnavailable)
// or Recreate, revisions in deployment.kubernetes.io/revision, old
// ReplicaSets trimmed to revisionHistoryLimit, pause/resume, and the status
// kubectl rollout status reads (observedGeneration, replicas counts, the
// Available and Progressing conditions with ProgressDeadlineExceeded).
import { runReconcileLoop } from '../kube/client/reconcile-loop.js';
import type { KubeApi, KubeObject } from '../kube/client/kube-client.js';
import { keyOf } from '../kube/client/informer.js';
import { WorkQueue } from '../kube/client/work-queue.js';
import { isKind } from '../errdefs.js';
import { labelSelectorMatches } from '../kube/api/selectors.js';
import { refs, inNs, type SharedInformers } from '../kube/client/shared-informers.js';
import { controllerOf, nowIso, ownerRefs } from './pod-state.js';
import { ownerRefOf } from './replicaset-controller.js';
import { hashLabel, templateHash, templatesEqual } from './template-hash.js';

const revisionKey = 'deployment.kubernetes.io/revision';
const desiredKey = 'deployment.kubernetes.io/desired-replicas';
const maxKey = 'deployment.kubernetes.io/max-replicas';

/** "25%" of total, rounded up (surge) or down (unavailable); or a plain number. */
export function resolveIntOrPercent(v: unknown, total: number, roundUp: boolean, dflt: string): number {
  const x = v ?? dflt;
  if (typeof x === 'number') return x;
  const m = String(x).match(/^(\d+)%$/);
  if (!m) return Number(x) || 0;
  const f = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(f) : Math.floor(f);
}

export function surgeAndUnavailable(d: KubeObject): { maxSurge: number; maxUnavailable: number } {
  const replicas = d.spec?.replicas ?? 1;
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const maxSurge = resolveIntOrPercent(ru.maxSurge, replicas, true, '25%');
  let maxUnavailable = resolveIntOrPercent(ru.maxUnavailable, replicas, false, '25%');
  // Both zero would never make progress: Kubernetes then allows one unavailable.
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

const revisionOf = (rs: KubeObject): number => Number(rs.metadata.annotations?.[revisionKey] ?? 0) || 0;
const specReplicas = (rs: KubeObject): number => rs.spec?.replicas ?? 0;
const sum = (xs: KubeObject[], f: (rs: KubeObject) => number): number => xs.reduce((s, x) => s + f(x), 0);

export class DeploymentController {
  readonly queue = new WorkQueue({ name: 'deployment', baseDelayMs: 200, maxDelayMs: 30_000 });

  constructor(
    private readonly informers: SharedInformers,
    private readonly client: KubeApi,
  ) {
    informers.for(refs.deployments).addHandlers({ onAdd: (o) => this.queue.add(keyOf(o)), onUpdate: (o) => this.queue.add(keyOf(o)) });
    const rsEvent = (rs: KubeObject) => {
      const ref = controllerOf(rs);
      if (ref?.kind === 'Deployment') this.queue.add(`${rs.metadata.namespace}/${ref.name}`);
      else if (!ref) for (const d of informers.for(refs.deployments).list()) if (d.metadata.namespace === rs.metadata.namespace && labelSelectorMatches(d.spec?.selector, rs.metadata.labels)) this.queue.add(keyOf(d));
    };
    informers.for(refs.replicasets).addHandlers({ onAdd: rsEvent, onUpdate: rsEvent, onDelete: rsEvent });
  }

  run(workers = 2): void {
    runReconcileLoop(this.queue, 'deployment-controller', (k) => this.reconcile(k), workers);
  }

  stop(): void {
    this.queue.shutdown();
  }

  async reconcile(key: string): Promise<void> {
    const d = this.informers.for(refs.deployments).get(key);
    if (!d || d.metadata.deletionTimestamp) return;
    const ns = d.metadata.namespace!;
    const rsRef = inNs(refs.replicasets, ns);
    const all: KubeObject[] = [];
    for (const rs of this.informers.for(refs.replicasets).list()) {
      if (rs.metadata.namespace !== ns) continue;
      const ctrl = controllerOf(rs);
      if (ctrl?.uid === d.metadata.uid) all.push(rs);
      else if (!ctrl && !rs.metadata.deletionTimestamp && labelSelectorMatches(d.spec?.selector, rs.metadata.labels)) {
        all.push(await this.client.patch<KubeObject>(rsRef, rs.metadata.name!, { metadata: { ownerReferences: [...ownerRefs(rs), ownerRefOf(d, 'Deployment')], resourceVersion: rs.metadata.resourceVersion } }));
      }
    }
    let newRS = all.find((rs) => templatesEqual(rs.spec?.template, d.spec?.template));
    const olds = all.filter((rs) => rs !== newRS);
    const replicas = d.spec?.replicas ?? 1;
    const paused = Boolean(d.spec?.paused);
    const recreate = d.spec?.strategy?.type === 'Recreate';
    const { maxSurge, maxUnavailable } = surgeAndUnavailable(d);
    let created = false;

    if (paused) {
      // Paused: no rollout, but kubectl scale still applies to the current ReplicaSet.
      if (newRS && specReplicas(newRS) !== replicas && sum(olds, specReplicas) === 0) newRS = await this.scale(newRS, replicas, d);
    } else if (recreate) {
      for (const rs of olds) if (specReplicas(rs) > 0) await this.scale(rs, 0, d);
      const oldPods = sum(olds, (rs) => rs.status?.replicas ?? 0);
      if (oldPods === 0 || olds.every((rs) => specReplicas(rs) === 0 && (rs.status?.replicas ?? 0) === 0)) {
        if (!newRS) {
          newRS = await this.createNewRS(d, olds, oldPods === 0 ? replicas : 0);
          created = true;
        } else if (specReplicas(newRS) !== replicas && oldPods === 0) newRS = await this.scale(newRS, replicas, d);
      }
    } else {
      if (!newRS) {
        newRS = await this.createNewRS(d, olds, Math.min(replicas, Math.max(0, replicas + maxSurge - sum(olds, specReplicas))));
        created = true;
      } else {
        newRS = await this.reconcileNew(d, newRS, olds, maxSurge);
      }
      await this.reconcileOld(d, newRS, olds, maxUnavailable);
    }
    if (newRS) newRS = await this.syncRevision(d, newRS, olds, maxSurge);
    const fresh = olds.map((rs) => this.informers.for(refs.replicasets).get(keyOf(rs)) ?? rs);
    await this.writeStatus(d, newRS, fresh, maxUnavailable, created);
    if (!paused && newRS && this.complete(d, newRS, fresh)) await this.cleanup(d, fresh);
  }

  private complete(d: KubeObject, newRS: KubeObject, olds: KubeObject[]): boolean {
    const replicas = d.spec?.replicas ?? 1;
    return (newRS.status?.replicas ?? 0) === replicas && (newRS.status?.availableReplicas ?? 0) === replicas && sum(olds, (rs) => rs.status?.replicas ?? 0) === 0;
  }

  private async createNewRS(d: KubeObject, olds: KubeObject[], count: number): Promise<KubeObject> {
    const collision = d.status?.collisionCount ?? 0;
    const hash = templateHash(d.spec?.template, collision);
    const tpl = structuredClone(d.spec?.template ?? {});
    tpl.metadata ??= {};
    tpl.metadata.labels = { ...(tpl.metadata.labels ?? {}), [hashLabel]: hash };
    const selector = structuredClone(d.spec?.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [hashLabel]: hash };
    const revision = Math.max(0, ...olds.map(revisionOf)) + 1;
    const { maxSurge } = surgeAndUnavailable(d);
    const annotations: Record<string, string> = { ...(d.metadata.annotations ?? {}), [revisionKey]: String(revision), [desiredKey]: String(d.spec?.replicas ?? 1), [maxKey]: String((d.spec?.replicas ?? 1) + maxSurge) };
    delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
    const body = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: `${d.metadata.name}-${hash}`, namespace: d.metadata.namespace, labels: tpl.metadata.labels, annotations, ownerReferences: [ownerRefOf(d, 'Deployment')] },
      spec: { replicas: count, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template: tpl },
    };
    try {
      return await this.client.create<KubeObject>(inNs(refs.replicasets, d.metadata.namespace), body);
    } catch (err) {
      if (!isKind(err, 'already-exists')) throw err;
      // Same name, different template: bump collisionCount so the next try hashes differently.
      const existing = await this.client.get<KubeObject>(inNs(refs.replicasets, d.metadata.namespace), body.metadata.name);
      if (controllerOf(existing)?.uid === d.metadata.uid && templatesEqual(existing.spec?.template, d.spec?.template)) return existing;
      await this.client.patch(inNs(refs.deployments, d.metadata.namespace), d.metadata.name!, { status: { collisionCount: collision + 1 } }, { subresource: 'status' });
      throw err;
    }
  }

  private async scale(rs: KubeObject, replicas: number, d: KubeObject): Promise<KubeObject> {
    const { maxSurge } = surgeAndUnavailable(d);
    return this.client.patch<KubeObject>(inNs(refs.replicasets, rs.metadata.namespace), rs.metadata.name!, {
      metadata: { resourceVersion: rs.metadata.resourceVersion, annotations: { [desiredKey]: String(d.spec?.replicas ?? 1), [maxKey]: String((d.spec?.replicas ?? 1) + maxSurge) } },
      spec: { replicas },
    });
  }

  /** Scale the new ReplicaSet up within maxSurge (Kubernetes' NewRSNewReplicas). */
  private async reconcileNew(d: KubeObject, newRS: KubeObject, olds: KubeObject[], maxSurge: number): Promise<KubeObject> {
    const replicas = d.spec?.replicas ?? 1;
    const cur = specReplicas(newRS);
    if (cur === replicas) return newRS;
    if (cur > replicas) return this.scale(newRS, replicas, d);
    const total = cur + sum(olds, specReplicas);
    const room = replicas + maxSurge - total;
    if (room <= 0) return newRS;
    return this.scale(newRS, cur + Math.min(room, replicas - cur), d);
  }

  /** Scale old ReplicaSets down while keeping replicas - maxUnavailable available. */
  private async reconcileOld(d: KubeObject, newRS: KubeObject, olds: KubeObject[], maxUnavailable: number): Promise<void> {
    const live = olds.filter((rs) => specReplicas(rs) > 0);
    if (!live.length) return;
    const replicas = d.spec?.replicas ?? 1;
    const minAvailable = replicas - maxUnavailable;
    const all = [newRS, ...olds];
    const newUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
    let maxScaledDown = sum(all, specReplicas) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return;
    // Oldest first; first drop old pods that are not available anyway.
    live.sort((a, b) => revisionOf(a) - revisionOf(b) || Date.parse(a.metadata.creationTimestamp ?? '') - Date.parse(b.metadata.creationTimestamp ?? ''));
    let cleaned = 0;
    for (const rs of live) {
      if (maxScaledDown <= 0) break;
      const unhealthy = specReplicas(rs) - (rs.status?.availableReplicas ?? 0);
      if (unhealthy <= 0) continue;
      const n = Math.min(unhealthy, maxScaledDown);
      await this.scale(rs, specReplicas(rs) - n, d);
      rs.spec = { ...rs.spec, replicas: specReplicas(rs) - n };
      maxScaledDown -= n;
      cleaned += n;
    }
    const available = sum(all, (rs) => rs.status?.availableReplicas ?? 0);
    // Then scale down available old pods while the total available stays at minAvailable or more.
    let budget = available - minAvailable;
    if (cleaned > 0 || budget <= 0) return;
    for (const rs of live) {
      if (budget <= 0) break;
      const n = Math.min(specReplicas(rs), budget);
      if (n <= 0) continue;
      await this.scale(rs, specReplicas(rs) - n, d);
      budget -= n;
    }
  }

  /** The new ReplicaSet holds the highest revision (again, after a rollback), and the Deployment shows it. */
  private async syncRevision(d: KubeObject, newRS: KubeObject, olds: KubeObject[], maxSurge: number): Promise<KubeObject> {
    const maxOld = Math.max(0, ...olds.map(revisionOf));
    let rs = newRS;
    if (revisionOf(rs) <= maxOld) {
      rs = await this.client.patch<KubeObject>(inNs(refs.replicasets, rs.metadata.namespace), rs.metadata.name!, {
        metadata: { annotations: { [revisionKey]: String(maxOld + 1), [desiredKey]: String(d.spec?.replicas ?? 1), [maxKey]: String((d.spec?.replicas ?? 1) + maxSurge) } },
      });
    }
    const rev = String(revisionOf(rs));
    if (d.metadata.annotations?.[revisionKey] !== rev) {
      await this.client.patch(inNs(refs.deployments, d.metadata.namespace), d.metadata.name!, { metadata: { annotations: { [revisionKey]: rev } } });
    }
    return rs;
  }

  /** Keeps revisionHistoryLimit old ReplicaSets that run nothing; deletes older ones. */
  private async cleanup(d: KubeObject, olds: KubeObject[]): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit ?? 10;
    const idle = olds.filter((rs) => specReplicas(rs) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata.deletionTimestamp).sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
      await this.client.delete(inNs(refs.replicasets, rs.metadata.namespace), rs.metadata.name!, { uid: rs.metadata.uid }).catch((err) => {
        if (!isKind(err, 'not-found') && !isKind(err, 'conflict')) throw err;
      });
    }
  }

  private async writeStatus(d: KubeObject, newRS: KubeObject | undefined, olds: KubeObject[], maxUnavailable: number, created: boolean): Promise<void> {
    const all = newRS ? [newRS, ...olds] : olds;
    const replicas = d.spec?.replicas ?? 1;
    const st = (rs: KubeObject, f: string) => rs.status?.[f] ?? 0;
    const available = sum(all, (rs) => st(rs, 'availableReplicas'));
    const status: Record<string, any> = {
      ...(d.status ?? {}),
      observedGeneration: d.metadata.generation,
      replicas: sum(all, (rs) => st(rs, 'replicas')),
      updatedReplicas: newRS ? st(newRS, 'replicas') : 0,
      readyReplicas: sum(all, (rs) => st(rs, 'readyReplicas')),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, replicas - available),
    };
    const now = nowIso();
    const conds: any[] = [...(d.status?.conditions ?? [])];
    const setCond = (c: { type: string; status: string; reason: string; message: string }, progressed = false) => {
      const i = conds.findIndex((x) => x.type === c.type);
      const old = i >= 0 ? conds[i] : undefined;
      const same = old && old.status === c.status && old.reason === c.reason;
      const next = { ...c, lastUpdateTime: same && !progressed ? old.lastUpdateTime : now, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : now };
      if (i >= 0) conds[i] = next;
      else conds.push(next);
    };
    const okAvail = available >= replicas - maxUnavailable;
    setCond(okAvail ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' } : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' });
    const rsName = newRS?.metadata.name ?? '';
    const prog = conds.find((x) => x.type === 'Progressing');
    const deadline = d.spec?.progressDeadlineSeconds ?? 600;
    if (d.spec?.paused) {
      setCond({ type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' });
    } else if (prog?.reason === 'DeploymentPaused') {
      setCond({ type: 'Progressing', status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed' }, true);
    } else if (newRS && this.complete(d, newRS, olds)) {
      setCond({ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` });
    } else {
      const old = d.status ?? {};
      const progressed = created || ['updatedReplicas', 'readyReplicas', 'availableReplicas'].some((f) => (status[f] ?? 0) > (old[f] ?? 0)) || (status.replicas ?? 0) < (old.replicas ?? 0) || old.observedGeneration !== d.metadata.generation;
      if (progressed || !prog || prog.reason === 'NewReplicaSetAvailable') {
        setCond({ type: 'Progressing', status: 'True', reason: created ? 'NewReplicaSetCreated' : 'ReplicaSetUpdated', message: created ? `Created new replica set "${rsName}"` : `ReplicaSet "${rsName}" is progressing.` }, true);
      } else if (prog.reason !== 'ProgressDeadlineExceeded') {
        const since = Date.parse(prog.lastUpdateTime ?? '') || Date.now();
        const left = since + deadline * 1000 - Date.now();
        if (left <= 0) setCond({ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.` });
        else this.queue.addAfter(keyOf(d), left + 100);
      }
    }
    status.conditions = conds;
    if (JSON.stringify(status) === JSON.stringify(d.status ?? {})) return;
    // A status merge patch: no resourceVersion race with our own annotation patch above.
    await this.client.patch(inNs(refs.deployments, d.metadata.namespace), d.metadata.name!, { status }, { subresource: 'status' });
  }
}
