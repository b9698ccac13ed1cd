// ControllerRevision history for StatefulSets and DaemonSets, as Kubernetes
// keeps it: one ControllerRevision per distinct pod template, named
// <owner>-<hash>, labelled with the template's labels plus
// controller-revision-hash, owned by its controller, and holding in `data` the
// strategic merge patch {"spec":{"template":{...,"$patch":"replace"}}} that
// restores that template. kubectl reads and applies `data` itself
// (`rollout history --revision`, `rollout undo`), so its shape is Kubernetes'
// (keys sorted, as Go's json.Marshal of a map writes them).
//
// Rolling back makes the current template equal to an old revision: that
// revision is reused and renumbered to the highest number, so history reads
// as Kubernetes' does. Crash safety: every step is one API write that a
// repeated sync finds done (same name, same data).
import type { KubeApi, KubeObject, ResourceRef } from '../kube/client/kube-client.js';
import { isKind, TugError } from '../errdefs.js';
import { inNs, type SharedInformers } from '../kube/client/shared-informers.js';
import { canonicalJson } from './template-hash.js';
import { controllerOf } from './pod-state.js';
import { ownerRefOf } from './replicaset-controller.js';
import { claimObjects, ownersSelecting } from './claim-objects.js';

export const revisionHashLabel = 'controller-revision-hash';
export const controllerRevisionsRef: ResourceRef = { group: 'apps', version: 'v1', resource: 'controllerrevisions' };

/** JSON with every object's keys sorted (Go's encoding of a map[string]interface{}). */
function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortedKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** The patch that restores an owner's pod template (what Kubernetes' getPatch makes). */
export function templatePatch(owner: KubeObject): Record<string, unknown> {
  return sortedKeys({ spec: { template: { ...(owner.spec?.template ?? {}), $patch: 'replace' } } }) as Record<string, unknown>;
}

/** The pod template a revision restores. */
export function revisionTemplate(r: KubeObject): any {
  const t = { ...((r.data as any)?.spec?.template ?? {}) };
  delete t.$patch;
  return t;
}

const safeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** Kubernetes' HashControllerRevision: FNV-1 32 of the data (and collision count), in the safe alphabet. */
export function revisionHash(data: unknown, collisionCount?: number): string {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(JSON.stringify(data) + (collisionCount ? String(collisionCount) : ''));
  for (const b of bytes) {
    h = Math.imul(h, 0x01000193) >>> 0;
    h = (h ^ b) >>> 0;
  }
  return [...String(h)].map((c) => safeAlphabet[c.charCodeAt(0) % safeAlphabet.length]).join('');
}

/** Same template (absent, null and empty fields alike, as defaulting may write either). */
export function sameTemplate(r: KubeObject, template: unknown): boolean {
  return canonicalJson(revisionTemplate(r)) === canonicalJson(template ?? {});
}

const revisionOf = (r: KubeObject): number => Number(r.revision ?? 0) || 0;

export interface OwnerKind {
  kind: string;
  ref: ResourceRef;
}

export class ControllerHistory {
  constructor(
    private readonly informers: SharedInformers,
    private readonly client: KubeApi,
    private readonly owner: OwnerKind,
  ) {}

  /** The owner's revisions (orphans its selector selects adopted), oldest revision number first. */
  async claim(o: KubeObject): Promise<KubeObject[]> {
    const inNamespace = this.informers
      .for(controllerRevisionsRef)
      .list()
      .filter((r) => r.metadata.namespace === o.metadata.namespace && !r.metadata.deletionTimestamp);
    const owned = await claimObjects(this.client, inNs(controllerRevisionsRef, o.metadata.namespace), inNamespace, o, { kind: this.owner.kind });
    return owned.sort((a, b) => revisionOf(a) - revisionOf(b) || (a.metadata.name! < b.metadata.name! ? -1 : 1));
  }

  /**
   * The revision of the owner's current template, made (or renumbered to be
   * the newest) if need be, and the list with it in place.
   */
  async sync(o: KubeObject): Promise<{ update: KubeObject; revisions: KubeObject[] }> {
    const revisions = await this.claim(o);
    const ref = inNs(controllerRevisionsRef, o.metadata.namespace);
    const next = revisions.length ? revisionOf(revisions[revisions.length - 1]!) + 1 : 1;
    const equal = revisions.filter((r) => sameTemplate(r, o.spec?.template));
    if (equal.length) {
      const found = equal[equal.length - 1]!;
      if (found === revisions[revisions.length - 1]) return { update: found, revisions };
      // A rollback: the old revision becomes the newest again.
      const renumbered = await this.client.patch<KubeObject>(ref, found.metadata.name!, { revision: next, metadata: { resourceVersion: found.metadata.resourceVersion } });
      return { update: renumbered, revisions: [...revisions.filter((r) => r !== found), renumbered] };
    }
    const data = templatePatch(o);
    const collisionCount = o.status?.collisionCount ?? 0;
    const hash = revisionHash(data, collisionCount);
    const body = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name: `${o.metadata.name!.slice(0, 223)}-${hash}`,
        namespace: o.metadata.namespace,
        labels: { ...(o.spec?.template?.metadata?.labels ?? {}), [revisionHashLabel]: hash },
        ...(o.metadata.annotations ? { annotations: o.metadata.annotations } : {}),
        ownerReferences: [ownerRefOf(o, this.owner.kind)],
      },
      data,
      revision: next,
    };
    try {
      const created = await this.client.create<KubeObject>(ref, body);
      return { update: created, revisions: [...revisions, created] };
    } catch (err) {
      if (!isKind(err, 'already-exists')) throw err;
      const existing = await this.client.get<KubeObject>(ref, body.metadata.name);
      if (controllerOf(existing)?.uid === o.metadata.uid && sameTemplate(existing, o.spec?.template)) {
        // Ours, not yet in the informer: it is the newest unless numbered lower.
        if (revisionOf(existing) >= next - 1 && revisions.every((r) => r.metadata.name !== existing.metadata.name)) return { update: existing, revisions: [...revisions, existing] };
        const renumbered = await this.client.patch<KubeObject>(ref, existing.metadata.name!, { revision: next });
        return { update: renumbered, revisions: [...revisions.filter((r) => r.metadata.name !== existing.metadata.name), renumbered] };
      }
      // A hash collision with some other revision: hash again with the next collisionCount.
      await this.client.patch(inNs(this.owner.ref, o.metadata.namespace), o.metadata.name!, { status: { collisionCount: collisionCount + 1 } }, { subresource: 'status' });
      throw new TugError('conflict', `controller revision ${body.metadata.name} exists with another template; collisionCount is now ${collisionCount + 1}`);
    }
  }

  /** Deletes the oldest revisions beyond revisionHistoryLimit, never one in `live` (by name). */
  async truncate(o: KubeObject, revisions: KubeObject[], live: Set<string>): Promise<void> {
    const limit = o.spec?.revisionHistoryLimit ?? 10;
    const idle = revisions.filter((r) => !live.has(r.metadata.name!));
    const ref = inNs(controllerRevisionsRef, o.metadata.namespace);
    for (const r of idle.slice(0, Math.max(0, idle.length - limit))) {
      await this.client.delete(ref, r.metadata.name!, { uid: r.metadata.uid }).catch((err) => {
        if (!isKind(err, 'not-found') && !isKind(err, 'conflict')) throw err;
      });
    }
  }

  /** Calls enqueue(ns/name of the owner) whenever one of its revisions (or an orphan it would adopt) changes. */
  watch(enqueue: (ownerKey: string) => void): void {
    const ev = (r: KubeObject): void => {
      const c = controllerOf(r);
      if (c?.kind === this.owner.kind) enqueue(`${r.metadata.namespace}/${c.name}`);
      else if (!c) for (const k of ownersSelecting(this.informers, this.owner.ref, r)) enqueue(k);
    };
    this.informers.for(controllerRevisionsRef).addHandlers({ onAdd: ev, onUpdate: ev, onDelete: ev });
  }
}
