// How API objects sit in the key/value store: JSON without resourceVersion
// (the store's modRevision is the resourceVersion), keyed by type/namespace/name.
import type { KeyValue } from './storage/store.js';
import { apiVersionOf, type KObject, type ResourceType } from '../kube/api/resource-type.js';

export function decode(kv: KeyValue): KObject {
  const o = JSON.parse(kv.value) as KObject;
  o.metadata ??= {};
  o.metadata.resourceVersion = String(kv.modRevision);
  return o;
}

export function encode(o: KObject): string {
  const copy = { ...o, metadata: { ...o.metadata } };
  delete copy.metadata.resourceVersion;
  return JSON.stringify(copy);
}

/** The object as seen through type `t` (a custom resource read through another served version shows that version). */
export function withTypeMeta(t: ResourceType, o: KObject): KObject {
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return { apiVersion: apiVersionOf(t), kind: t.kind, ...rest };
}

/** Continue tokens carry the list revision and the last key, like the real server's. */
export function encodeContinue(revision: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: revision, start: lastKey })).toString('base64url');
}

export function decodeContinue(token: string): { rv: number; start: string } | null {
  try {
    const j = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { rv?: number; start?: string };
    if (typeof j.rv === 'number' && typeof j.start === 'string') return { rv: j.rv, start: j.start };
  } catch {
    /* fall through */
  }
  return null;
}
