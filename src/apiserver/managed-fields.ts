// Field ownership for server-side apply: which manager owns which fields
// (metadata.managedFields, FieldsV1 format), conflicts between managers, and
// removal of fields an applier stopped specifying.
import { resolveSchema, childSchema, type Schema } from '../kube/api/schema.js';
import type { KObject, ManagedFieldsEntry } from '../kube/api/resource-type.js';
import { applyStrategicMergePatch } from './patch.js';
import { TugError } from '../errdefs.js';

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const SEP = '\u0000';

/** Fields never tracked: identity and server-owned bookkeeping. */
const ignoredTop = new Set(['apiVersion', 'kind']);
const ignoredMeta = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds']);

/** Leaf field paths of an object, each a SEP-joined list of FieldsV1 elements (f:name, k:{...}, v:...). */
export function fieldSet(o: unknown, schema: Schema | undefined): Set<string> {
  const out = new Set<string>();
  walkFields(o, schema, (p) => out.add(p));
  return out;
}

/**
 * Leaf field paths with the value each one names (the first one, where a list
 * repeats a key): what valueAt() would find, in one walk. Values are kept as
 * they are, not as JSON: a create compares nothing, and an update compares
 * most leaves (scalars) with ===.
 */
function fieldValues(o: unknown, schema: Schema | undefined): Map<string, unknown> {
  const out = new Map<string, unknown>();
  walkFields(o, schema, (p, v) => {
    if (!out.has(p)) out.set(p, v);
  });
  return out;
}

/** Two leaf values are the same field value when their JSON is. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function walkFields(o: unknown, schema: Schema | undefined, leaf: (path: string, value: unknown) => void): void {
  walk(o, schema, '', 0);

  // path: the SEP-joined elements so far (depth of them); joined as it goes, on every write's hot path.
  function walk(v: unknown, s0: Schema | undefined, path: string, depth: number): void {
    const s = resolveSchema(s0);
    const under = (el: string) => (depth ? path + SEP + el : el);
    if (isObj(v)) {
      let empty = true;
      for (const k in v) {
        empty = false;
        if (depth === 0 && ignoredTop.has(k)) continue;
        if (depth === 1 && path === 'f:metadata' && ignoredMeta.has(k)) continue;
        walk(v[k], childSchema(s, k), under(`f:${k}`), depth + 1);
      }
      if (empty && depth) leaf(path, v);
      return;
    }
    if (Array.isArray(v) && s?.listType === 'map' && s.listMapKeys?.length) {
      for (const item of v) {
        if (!isObj(item)) continue;
        const key: Record<string, unknown> = {};
        for (const k of s.listMapKeys) if (item[k] !== undefined) key[k] = item[k];
        const el = under(`k:${JSON.stringify(key)}`);
        leaf(el + SEP + '.', item);
        walk(item, s.items, el, depth + 1);
      }
      return;
    }
    if (Array.isArray(v) && (s?.listType === 'set' || (s?.patchStrategy === 'merge' && !s.mergeKey))) {
      for (const item of v) leaf(under(`v:${JSON.stringify(item)}`), item);
      return;
    }
    if (depth) leaf(path, v);
  }
}

export function toFieldsV1(set: Set<string>): Record<string, unknown> {
  const root: Record<string, any> = {};
  for (const p of set) {
    let cur = root;
    for (const el of p.split(SEP)) cur = cur[el] ??= {};
  }
  return root;
}

export function fromFieldsV1(f: Record<string, unknown> | undefined): Set<string> {
  const out = new Set<string>();
  const rec = (node: Record<string, any>, path: string[]) => {
    const keys = Object.keys(node);
    if (!keys.length && path.length) out.add(path.join(SEP));
    for (const k of keys) rec(node[k] ?? {}, [...path, k]);
  };
  if (f) rec(f as Record<string, any>, []);
  return out;
}

/** Human form of a path for conflict messages: .spec.containers[name="web"].image */
export function describePath(p: string): string {
  return p
    .split(SEP)
    .filter((el) => el !== '.')
    .map((el) => {
      if (el.startsWith('f:')) return `.${el.slice(2)}`;
      if (el.startsWith('k:')) {
        const key = JSON.parse(el.slice(2)) as Record<string, unknown>;
        return `[${Object.entries(key).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
      }
      if (el.startsWith('v:')) return `[${el.slice(2)}]`;
      return el;
    })
    .join('');
}

function valueAt(o: unknown, p: string): { found: boolean; value?: unknown } {
  let cur: any = o;
  for (const el of p.split(SEP)) {
    if (el === '.') continue;
    if (el.startsWith('f:')) {
      if (!isObj(cur) || !(el.slice(2) in cur)) return { found: false };
      cur = cur[el.slice(2)];
    } else if (el.startsWith('k:')) {
      const key = JSON.parse(el.slice(2)) as Record<string, unknown>;
      if (!Array.isArray(cur)) return { found: false };
      cur = cur.find((x) => isObj(x) && Object.entries(key).every(([k, v]) => x[k] === v));
      if (cur === undefined) return { found: false };
    } else if (el.startsWith('v:')) {
      const want = el.slice(2);
      if (!Array.isArray(cur) || !cur.some((x) => JSON.stringify(x) === want)) return { found: false };
      return { found: true, value: JSON.parse(want) };
    }
  }
  return { found: true, value: cur };
}

function removeAt(o: any, p: string): void {
  const els = p.split(SEP).filter((e) => e !== '.');
  let cur: any = o;
  for (let i = 0; i < els.length; i++) {
    const el = els[i];
    const last = i === els.length - 1;
    if (el.startsWith('f:')) {
      if (!isObj(cur)) return;
      if (last) delete cur[el.slice(2)];
      else cur = cur[el.slice(2)];
    } else if (el.startsWith('k:')) {
      const key = JSON.parse(el.slice(2)) as Record<string, unknown>;
      if (!Array.isArray(cur)) return;
      const idx = cur.findIndex((x) => isObj(x) && Object.entries(key).every(([k, v]) => x[k] === v));
      if (idx < 0) return;
      if (last) cur.splice(idx, 1);
      else cur = cur[idx];
    } else if (el.startsWith('v:')) {
      if (!Array.isArray(cur)) return;
      const idx = cur.findIndex((x) => JSON.stringify(x) === el.slice(2));
      if (idx >= 0) cur.splice(idx, 1);
      return;
    }
  }
}

function entryKey(e: ManagedFieldsEntry): string {
  return `${e.manager}\u0001${e.operation}\u0001${e.subresource ?? ''}`;
}

/** Records that `manager` (operation Update) now owns the fields that changed between old and new. */
export function recordUpdate(oldObj: KObject | undefined, newObj: KObject, manager: string, apiVersion: string, schema: Schema | undefined, subresource?: string): void {
  // One walk per object with each leaf's value (not a valueAt() lookup per path): this runs on every write.
  const before = oldObj ? fieldValues(oldObj, schema) : new Map<string, unknown>();
  const after = fieldValues(newObj, schema);
  const changed = new Set<string>();
  for (const [p, v] of after) if (!before.has(p) || !sameValue(before.get(p), v)) changed.add(p);
  const entries = (oldObj?.metadata?.managedFields ?? newObj.metadata?.managedFields ?? []).map((e) => ({ ...e }));
  const kept: ManagedFieldsEntry[] = [];
  for (const e of entries) {
    const set = fromFieldsV1(e.fieldsV1);
    const size = set.size;
    for (const p of [...set]) if (changed.has(p) || !after.has(p)) set.delete(p);
    if (!set.size) continue;
    // An entry that lost nothing keeps its fieldsV1 as it was: no rebuild.
    kept.push(set.size === size ? e : { ...e, fieldsV1: toFieldsV1(set) });
  }
  if (changed.size) {
    const me: ManagedFieldsEntry = { manager, operation: 'Update', apiVersion, time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), fieldsType: 'FieldsV1', fieldsV1: {} };
    if (subresource) me.subresource = subresource;
    const idx = kept.findIndex((e) => entryKey(e) === entryKey(me));
    const set = idx >= 0 ? fromFieldsV1(kept[idx].fieldsV1) : new Set<string>();
    for (const p of changed) set.add(p);
    me.fieldsV1 = toFieldsV1(set);
    if (idx >= 0) kept.splice(idx, 1);
    kept.push(me);
  }
  newObj.metadata ??= {};
  newObj.metadata.managedFields = kept;
}

/**
 * Server-side apply: merges `applied` into `live` on behalf of `manager`.
 * Fields another manager owns with a different value are conflicts (409)
 * unless force; fields this manager applied before and dropped now are removed.
 */
export function serverSideApply(live: KObject | undefined, applied: KObject, manager: string, apiVersion: string, schema: Schema | undefined, force: boolean): KObject {
  const appliedSet = fieldSet(applied, schema);
  const entries = (live?.metadata?.managedFields ?? []).map((e) => ({ ...e }));
  const conflicts: { manager: string; apiVersion: string; path: string }[] = [];
  for (const e of entries) {
    if (e.manager === manager && e.operation === 'Apply') continue;
    const owned = fromFieldsV1(e.fieldsV1);
    for (const p of appliedSet) {
      if (!owned.has(p) || p.endsWith('.')) continue;
      const a = valueAt(applied, p);
      const l = valueAt(live, p);
      if (JSON.stringify(a.value) !== JSON.stringify(l.value)) conflicts.push({ manager: e.manager, apiVersion: e.apiVersion, path: p });
    }
  }
  if (conflicts.length && !force) {
    const lines = conflicts.map((c) => `conflict with "${c.manager}" using ${c.apiVersion}: ${describePath(c.path)}`);
    const msg = conflicts.length === 1 ? `Apply failed with 1 conflict: ${lines[0]}` : `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
    throw new TugError('conflict', msg, {
      details: { causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${c.apiVersion}`, field: describePath(c.path) })) },
    });
  }
  const mine = entries.find((e) => e.manager === manager && e.operation === 'Apply');
  const previouslyApplied = mine ? fromFieldsV1(mine.fieldsV1) : new Set<string>();
  const ownedByOthers = new Set<string>();
  for (const e of entries) if (e !== mine) for (const p of fromFieldsV1(e.fieldsV1)) ownedByOthers.add(p);

  const base: KObject = live ? structuredClone(live) : {};
  for (const p of previouslyApplied) if (!appliedSet.has(p) && !ownedByOthers.has(p)) removeAt(base, p);
  const appliedClean = structuredClone(applied);
  if (appliedClean.metadata) {
    for (const k of ignoredMeta) if (k !== 'name' && k !== 'namespace') delete appliedClean.metadata[k];
  }
  const merged = applyStrategicMergePatch(base, appliedClean, schema) as KObject;

  // Ownership: I own exactly what I applied; others lose what they conflicted on (forced) .
  const taken = new Set(conflicts.map((c) => c.path));
  const next: ManagedFieldsEntry[] = [];
  for (const e of entries) {
    if (e === mine) continue;
    const set = fromFieldsV1(e.fieldsV1);
    for (const p of taken) set.delete(p);
    if (set.size) next.push({ ...e, fieldsV1: toFieldsV1(set) });
  }
  next.push({ manager, operation: 'Apply', apiVersion, time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(appliedSet) });
  merged.metadata ??= {};
  merged.metadata.managedFields = next;
  return merged;
}
