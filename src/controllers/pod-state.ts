// Small facts about pods that several controllers ask: is it active, ready,
// who controls it.
import type { KubeObject } from '../kube/client/kube-client.js';

export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export function ownerRefs(o: KubeObject): OwnerRef[] {
  return (o.metadata.ownerReferences as OwnerRef[] | undefined) ?? [];
}

export function controllerOf(o: KubeObject): OwnerRef | undefined {
  return ownerRefs(o).find((r) => r.controller);
}

/** Counts toward replicas: not finished and not being deleted. */
export function isPodActive(p: KubeObject): boolean {
  const phase = p.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !p.metadata.deletionTimestamp;
}

export function podReadySince(p: KubeObject): number | undefined {
  const c = (p.status?.conditions ?? []).find((x: { type: string }) => x.type === 'Ready');
  if (c?.status !== 'True') return undefined;
  const t = Date.parse(c.lastTransitionTime ?? '');
  return Number.isFinite(t) ? t : 0;
}

export function isPodReady(p: KubeObject): boolean {
  return podReadySince(p) !== undefined;
}

/** Ready for at least minReadySeconds (now is passed so a reconcile uses one clock reading). */
export function isPodAvailable(p: KubeObject, minReadySeconds: number, now: number): boolean {
  const since = podReadySince(p);
  if (since === undefined) return false;
  return minReadySeconds <= 0 || since + minReadySeconds * 1000 <= now;
}

export function nowIso(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}
