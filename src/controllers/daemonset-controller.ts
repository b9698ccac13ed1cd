// DaemonSet controller: one pod per eligible node (nodeSelector, required
// node affinity, taints against the daemon tolerations; see daemon-pod.ts),
// new nodes included. Each pod is pinned to its node by a matchFields
// affinity term and bound by the scheduler, as in Kubernetes. Templates are
// versioned by ControllerRevisions (controller-history.ts); pods carry
// controller-revision-hash and pod-template-generation. RollingUpdate
// replaces old pods within maxUnavailable, or with maxSurge starts the new pod
// beside the old one and deletes the old one once the new is available;
// OnDelete replaces only pods the user deletes. Status is what `kubectl
// rollout status ds` reads.
//
// Pods are made with generateName, so a reconcile on a cache that has not yet
// seen its own creates would make them twice: expectations (as the ReplicaSet
// controller's) hold the next reconcile until the informer has seen them.
import { runReconcileLoop } from '../kube/client/reconcile-loop.js';
import type { KubeApi, KubeObject, ResourceRef } from '../kube/client/kube-client.js';
import { keyOf } from '../kube/client/informer.js';
import { WorkQueue } from '../kube/client/work-queue.js';
import { isKind, messageOf } from '../errdefs.js';
import { refs, inNs, type SharedInformers } from '../kube/client/shared-informers.js';
import { controllerOf, isPodAvailable, isPodReady, podReadySince } from './pod-state.js';
import { ownerRefOf } from './replicaset-controller.js';
import { resolveIntOrPercent } from './deployment-controller.js';
import { ControllerHistory, revisionHashLabel } from './controller-history.js';
import { claimObjects, ownersSelecting } from './claim-objects.js';
import { recordEvent } from './owner-events.js';
import { daemonTolerations, nodeShouldRunDaemon, pinnedAffinity, targetNode } from './daemon-pod.js';

export const daemonSetsRef: ResourceRef = { group: 'apps', version: 'v1', resource: 'daemonsets' };
const generationLabel = 'pod-template-generation';
const component = 'daemonset-controller';
const maxBackoffMs = 15 * 60_000;

const isFinished = (p: KubeObject): boolean => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';
const created = (p: KubeObject): number => Date.parse(p.metadata.creationTimestamp ?? '') || 0;

interface Expectations {
  /** Names of pods created and not yet seen by the informer. */
  adds: Set<string>;
  /** Uids of pods deleted and not yet seen deleting. */
  dels: Set<string>;
  at: number;
}

export class DaemonSetController {
  readonly queue = new WorkQueue({ name: 'daemonset', baseDelayMs: 200, maxDelayMs: 30_000 });
  private readonly history: ControllerHistory;
  private readonly expectations = new Map<string, Expectations>();
  /** Per DaemonSet and node: when a failed pod may next be replaced, and the delay after that. */
  private readonly backoff = new Map<string, { next: number; delay: number }>();

  constructor(
    private readonly informers: SharedInformers,
    private readonly client: KubeApi,
  ) {
    this.history = new ControllerHistory(informers, client, { kind: 'DaemonSet', ref: daemonSetsRef });
    informers.for(daemonSetsRef).addHandlers({ onAdd: (o) => this.queue.add(keyOf(o)), onUpdate: (o) => this.queue.add(keyOf(o)), onDelete: (o) => this.forget(keyOf(o)) });
    const podEvent = (p: KubeObject, deleted = false): void => {
      const c = controllerOf(p);
      if (!c) for (const k of ownersSelecting(informers, daemonSetsRef, p)) this.queue.add(k);
      if (c?.kind !== 'DaemonSet') return;
      const k = `${p.metadata.namespace}/${c.name}`;
      const e = this.expectations.get(k);
      e?.adds.delete(p.metadata.name!);
      if (deleted || p.metadata.deletionTimestamp) e?.dels.delete(p.metadata.uid!);
      this.queue.add(k);
    };
    informers.for(refs.pods).addHandlers({ onAdd: (p) => podEvent(p), onUpdate: (p) => podEvent(p), onDelete: (p) => podEvent(p, true) });
    // Any node change (a new node, labels, taints) may change where daemons belong.
    const nodeEvent = (): void => {
      for (const ds of informers.for(daemonSetsRef).list()) this.queue.add(keyOf(ds));
    };
    informers.for(refs.nodes).addHandlers({ onAdd: nodeEvent, onUpdate: (n, old) => (JSON.stringify([n.metadata.labels, n.spec]) !== JSON.stringify([old.metadata.labels, old.spec]) ? nodeEvent() : undefined), onDelete: nodeEvent });
    this.history.watch((k) => this.queue.add(k));
  }

  run(workers = 2): void {
    runReconcileLoop(this.queue, 'daemonset-controller', (k) => this.reconcile(k), workers);
  }

  stop(): void {
    this.queue.shutdown();
  }

  private forget(key: string): void {
    this.expectations.delete(key);
    for (const k of this.backoff.keys()) if (k.startsWith(`${key}/`)) this.backoff.delete(k);
  }

  /**
   * 0 when a failed pod on this node may be replaced now (and the next
   * replacement then waits twice as long), else the ms left to wait.
   */
  private failedBackoff(nodeKey: string): number {
    const now = Date.now();
    const b = this.backoff.get(nodeKey);
    // A node quiet for twice the longest delay starts over.
    if (b && now < b.next) return b.next - now;
    const delay = b && now - b.next < 2 * maxBackoffMs ? Math.min(b.delay * 2, maxBackoffMs) : 1000;
    this.backoff.set(nodeKey, { next: now + delay, delay });
    return 0;
  }

  private satisfied(key: string): boolean {
    const e = this.expectations.get(key);
    if (!e) return true;
    if ((!e.adds.size && !e.dels.size) || Date.now() - e.at > 30_000) {
      this.expectations.delete(key);
      return true;
    }
    return false;
  }

  async reconcile(key: string): Promise<void> {
    const ds = this.informers.for(daemonSetsRef).get(key);
    if (!ds || ds.metadata.deletionTimestamp) return;
    const ns = ds.metadata.namespace!;
    const { update, revisions } = await this.history.sync(ds);
    const hash = update.metadata.labels?.[revisionHashLabel] ?? '';
    const nodes = this.informers.for(refs.nodes).list();
    const owned = await claimObjects(
      this.client,
      inNs(refs.pods, ns),
      this.informers.for(refs.pods).list().filter((p) => p.metadata.namespace === ns),
      ds,
      { kind: 'DaemonSet' },
    );
    const byNode = new Map<string, KubeObject[]>();
    for (const p of owned) {
      const n = targetNode(p) ?? '';
      byNode.set(n, [...(byNode.get(n) ?? []), p]);
    }
    for (const list of byNode.values()) list.sort((a, b) => created(a) - created(b));
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const now = Date.now();
    const isNew = (p: KubeObject): boolean => p.metadata.labels?.[revisionHashLabel] === hash;
    const available = (p: KubeObject): boolean => isPodAvailable(p, minReady, now);

    const eligible = new Map<string, { shouldRun: boolean; shouldContinueRunning: boolean }>();
    for (const n of nodes) eligible.set(n.metadata.name!, nodeShouldRunDaemon(ds, n));

    if (this.satisfied(key)) {
      const toCreate: string[] = [];
      const toDelete: KubeObject[] = [];
      for (const [nodeName, pods] of byNode) {
        const e = eligible.get(nodeName);
        // The node is gone, or the daemon no longer belongs there.
        if (!e?.shouldContinueRunning) toDelete.push(...pods.filter((p) => !p.metadata.deletionTimestamp));
      }
      for (const [nodeName, e] of eligible) {
        if (!e.shouldContinueRunning) continue;
        const pods = (byNode.get(nodeName) ?? []).filter((p) => !p.metadata.deletionTimestamp);
        // A failed daemon pod is replaced, with a back-off per node (1 s doubling to 15 min, as Kubernetes') so a pod that always fails does not spin.
        const failed = pods.filter(isFinished);
        if (failed.length) {
          const wait = this.failedBackoff(`${key}/${nodeName}`);
          if (wait > 0) {
            // Neither kill nor replace until the back-off ends.
            this.queue.addAfter(key, wait);
            continue;
          }
          toDelete.push(...failed);
          for (const p of failed) recordEvent(this.client, component, ds, 'DaemonSet', 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${ns}/${p.metadata.name} on node ${nodeName}, will try to kill it`);
        }
        const live = pods.filter((p) => !isFinished(p));
        if (!live.length) {
          if (e.shouldRun && !(byNode.get(nodeName) ?? []).some((p) => p.metadata.deletionTimestamp && !isFinished(p))) toCreate.push(nodeName);
          continue;
        }
        // More than one: keep the oldest new and the oldest old pod (a surge pair), delete the rest.
        const keepNew = live.find(isNew);
        const keepOld = live.find((p) => !isNew(p));
        toDelete.push(...live.filter((p) => p !== keepNew && p !== keepOld));
      }
      const strategy = ds.spec?.updateStrategy ?? {};
      if ((strategy.type ?? 'RollingUpdate') === 'RollingUpdate') this.rollingUpdate(ds, eligible, byNode, isNew, available, toCreate, toDelete);
      await this.apply(key, ds, hash, toCreate, toDelete);
    }
    if (minReady > 0) {
      const next = owned.map(podReadySince).filter((t): t is number => t !== undefined && t + minReady * 1000 > now);
      if (next.length) this.queue.addAfter(key, Math.min(...next) + minReady * 1000 - now + 50);
    }
    await this.writeStatus(ds, eligible, byNode, isNew, available);
    const live = new Set([update.metadata.name!, ...revisions.filter((r) => owned.some((p) => p.metadata.labels?.[revisionHashLabel] === r.metadata.labels?.[revisionHashLabel])).map((r) => r.metadata.name!)]);
    await this.history.truncate(ds, revisions, live);
  }

  /**
   * Kubernetes' rollingUpdate: without surge, delete old pods (unavailable
   * ones first and freely, then available ones while fewer than maxUnavailable
   * nodes lack an available daemon); with surge, start a new pod beside an
   * available old one (at most maxSurge at once) and delete the old pod once
   * the new one is available.
   */
  private rollingUpdate(ds: KubeObject, eligible: Map<string, { shouldRun: boolean }>, byNode: Map<string, KubeObject[]>, isNew: (p: KubeObject) => boolean, available: (p: KubeObject) => boolean, toCreate: string[], toDelete: KubeObject[]): void {
    const desired = [...eligible.values()].filter((e) => e.shouldRun).length;
    const ru = ds.spec?.updateStrategy?.rollingUpdate ?? {};
    const maxSurge = resolveIntOrPercent(ru.maxSurge ?? 0, desired, true, '0');
    let maxUnavailable = resolveIntOrPercent(ru.maxUnavailable ?? 1, desired, true, '1');
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    const doomed = new Set(toDelete);
    const nodes = [...eligible].filter(([, e]) => e.shouldRun).map(([n]) => n);
    const podsOn = (n: string): KubeObject[] => (byNode.get(n) ?? []).filter((p) => !p.metadata.deletionTimestamp && !isFinished(p) && !doomed.has(p));
    if (maxSurge === 0) {
      let unavailable = nodes.filter((n) => !podsOn(n).some(available)).length;
      for (const n of nodes) {
        const old = podsOn(n).find((p) => !isNew(p));
        if (!old) continue;
        if (!available(old)) {
          toDelete.push(old);
        } else if (unavailable < maxUnavailable) {
          toDelete.push(old);
          unavailable++;
        }
      }
      return;
    }
    let surging = nodes.filter((n) => podsOn(n).some(isNew) && podsOn(n).some((p) => !isNew(p))).length;
    for (const n of nodes) {
      const pods = podsOn(n);
      const old = pods.find((p) => !isNew(p));
      if (!old) continue;
      const fresh = pods.find(isNew);
      if (fresh) {
        if (available(fresh)) toDelete.push(old);
      } else if (!available(old)) {
        // Nothing to keep serving: replace at once.
        toDelete.push(old);
        if (!toCreate.includes(n)) toCreate.push(n);
      } else if (surging < maxSurge && !toCreate.includes(n)) {
        toCreate.push(n);
        surging++;
      }
    }
  }

  private async apply(key: string, ds: KubeObject, hash: string, toCreate: string[], toDelete: KubeObject[]): Promise<void> {
    const ns = ds.metadata.namespace!;
    const podRef = inNs(refs.pods, ns);
    const seen = new Set<string>();
    const e: Expectations = { adds: new Set(), dels: new Set(), at: Date.now() };
    if (toDelete.length || toCreate.length) this.expectations.set(key, e);
    await Promise.all(
      toDelete
        .filter((p) => !seen.has(p.metadata.uid!) && seen.add(p.metadata.uid!))
        .map((p) => {
          // Expected before the call: the informer may report the deletion before the call returns.
          e.dels.add(p.metadata.uid!);
          return this.client.delete(podRef, p.metadata.name!, { uid: p.metadata.uid }).then(
            () => recordEvent(this.client, component, ds, 'DaemonSet', 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`),
            (err) => {
              e.dels.delete(p.metadata.uid!);
              if (!isKind(err, 'not-found') && !isKind(err, 'conflict')) throw err;
            },
          );
        }),
    );
    if (!toCreate.length) return;
    const tpl = ds.spec?.template ?? {};
    const results = await Promise.allSettled(
      toCreate.map(async (nodeName) => {
        const spec = { ...(tpl.spec ?? {}), tolerations: daemonTolerations(tpl.spec ?? {}), affinity: pinnedAffinity(tpl.spec?.affinity, nodeName) };
        const body = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            ...(tpl.metadata ?? {}),
            generateName: `${ds.metadata.name}-`,
            namespace: ns,
            labels: { ...(tpl.metadata?.labels ?? {}), [revisionHashLabel]: hash, [generationLabel]: String(ds.metadata.generation ?? 1) },
            ownerReferences: [ownerRefOf(ds, 'DaemonSet')],
          },
          spec,
        };
        delete (body.metadata as Record<string, unknown>).name;
        const p = await this.client.create<KubeObject>(podRef, body).catch((err) => {
          recordEvent(this.client, component, ds, 'DaemonSet', 'Warning', 'FailedCreate', `Error creating: ${messageOf(err)}`);
          throw err;
        });
        if (!this.informers.for(refs.pods).get(keyOf(p))) e.adds.add(p.metadata.name!);
        recordEvent(this.client, component, ds, 'DaemonSet', 'Normal', 'SuccessfulCreate', `Created pod: ${p.metadata.name}`);
      }),
    );
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
  }

  private async writeStatus(ds: KubeObject, eligible: Map<string, { shouldRun: boolean }>, byNode: Map<string, KubeObject[]>, isNew: (p: KubeObject) => boolean, available: (p: KubeObject) => boolean): Promise<void> {
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let avail = 0;
    let updated = 0;
    for (const [nodeName, e] of eligible) {
      const pods = (byNode.get(nodeName) ?? []).filter((p) => !p.metadata.deletionTimestamp);
      if (!e.shouldRun) {
        if (pods.length) misscheduled++;
        continue;
      }
      desired++;
      if (!pods.length) continue;
      current++;
      // As Kubernetes: the oldest pod on the node speaks for it.
      const p = pods[0]!;
      if (isPodReady(p)) {
        ready++;
        if (available(p)) avail++;
      }
      if (isNew(p)) updated++;
    }
    const status: Record<string, unknown> = {
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: desired,
      numberReady: ready,
      observedGeneration: ds.metadata.generation,
      updatedNumberScheduled: updated,
      numberAvailable: avail,
      numberUnavailable: desired - avail,
      collisionCount: ds.status?.collisionCount ?? 0,
    };
    const cur = ds.status ?? {};
    if (Object.entries(status).every(([k, v]) => (cur[k] ?? 0) === (v ?? 0))) return;
    await this.client.patch(inNs(daemonSetsRef, ds.metadata.namespace), ds.metadata.name!, { status }, { subresource: 'status' });
  }
}
