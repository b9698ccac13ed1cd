// The three patch formats kubectl sends: RFC 6902 JSON patch, RFC 7386 merge
// patch, and Kubernetes strategic merge patch (lists merged by the schema's
// patchMergeKey, plus the $patch / $retainKeys / $setElementOrder directives).
import { resolveSchema, childSchema, type Schema } from '../kube/api/schema.js';
import { badRequest } from './status.js';

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

// ---- RFC 6902 ----

function unescapePointer(tok: string): string {
  return tok.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`invalid JSON pointer "${path}"`);
  return path.slice(1).split('/').map(unescapePointer);
}

function walkTo(doc: any, toks: string[], create = false): { parent: any; key: string } {
  let cur = doc;
  for (const t of toks.slice(0, -1)) {
    const next = Array.isArray(cur) ? cur[Number(t)] : cur?.[t];
    if (next === undefined || next === null) {
      if (!create) throw badRequest(`the server rejected our request due to an error in our request: doc is missing path: "/${toks.join('/')}"`);
    }
    cur = next;
  }
  if (cur === undefined || cur === null || typeof cur !== 'object') throw badRequest(`doc is missing path: "/${toks.join('/')}"`);
  return { parent: cur, key: toks[toks.length - 1] };
}

function getAt(doc: any, toks: string[]): any {
  let cur = doc;
  for (const t of toks) {
    if (cur === undefined || cur === null) return undefined;
    cur = Array.isArray(cur) ? cur[Number(t)] : cur[t];
  }
  return cur;
}

function addAt(doc: any, toks: string[], value: unknown): any {
  if (!toks.length) return value;
  const { parent, key } = walkTo(doc, toks);
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(i) || i < 0 || i > parent.length) throw badRequest(`add operation index out of bounds: ${key}`);
    parent.splice(i, 0, value);
  } else parent[key] = value;
  return doc;
}

function removeAt(doc: any, toks: string[]): unknown {
  const { parent, key } = walkTo(doc, toks);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= parent.length) throw badRequest(`remove operation index out of bounds: ${key}`);
    return parent.splice(i, 1)[0];
  }
  if (!(key in parent)) throw badRequest(`remove operation does not apply: doc is missing path: "/${toks.join('/')}"`);
  const v = parent[key];
  delete parent[key];
  return v;
}

export function applyJsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json patch must be an array of operations');
  let out: any = clone(doc);
  for (const op of ops) {
    if (!isObj(op) || typeof op.op !== 'string' || typeof op.path !== 'string') throw badRequest('invalid json patch operation');
    const toks = parsePointer(op.path);
    switch (op.op) {
      case 'add':
        out = addAt(out, toks, clone(op.value));
        break;
      case 'remove':
        removeAt(out, toks);
        break;
      case 'replace':
        if (!toks.length) out = clone(op.value);
        else {
          if (getAt(out, toks) === undefined) throw badRequest(`replace operation does not apply: doc is missing key: ${op.path}`);
          removeAt(out, toks);
          out = addAt(out, toks, clone(op.value));
        }
        break;
      case 'move': {
        const v = removeAt(out, parsePointer(String(op.from)));
        out = addAt(out, toks, v);
        break;
      }
      case 'copy':
        out = addAt(out, toks, clone(getAt(out, parsePointer(String(op.from)))));
        break;
      case 'test':
        if (JSON.stringify(getAt(out, toks)) !== JSON.stringify(op.value)) throw badRequest(`testing value ${op.path} failed`);
        break;
      default:
        throw badRequest(`unknown json patch operation "${op.op}"`);
    }
  }
  return out;
}

// ---- RFC 7386 ----

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: Record<string, any> = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

// ---- strategic merge patch ----

/** `owned`: the caller hands over `target` (a fresh decode of its own), so it is changed in place instead of copied first. */
export function applyStrategicMergePatch(target: unknown, patch: unknown, schema: Schema | undefined, owned = false): unknown {
  if (!isObj(patch)) throw badRequest('strategic merge patch must be a JSON object');
  return mergeMap(isObj(target) ? (owned ? target : clone(target)) : {}, patch, schema);
}

function mergeMap(target: Record<string, any>, patch: Record<string, any>, schema: Schema | undefined): Record<string, any> {
  if (patch.$patch === 'replace') {
    const rest = { ...patch };
    delete rest.$patch;
    return stripDirectives(rest);
  }
  if (patch.$patch === 'delete') return {};
  const retain: string[] | undefined = Array.isArray(patch.$retainKeys) ? patch.$retainKeys : undefined;
  const ordered = new Set<string>();
  for (const [k, order] of Object.entries(patch)) {
    if (!k.startsWith('$setElementOrder/')) continue;
    // The list is merged as usual, then put in the directive's order (apimachinery's mergePatchIntoOriginal).
    const field = k.slice('$setElementOrder/'.length);
    if (!Array.isArray(order)) throw badRequest(`invalid value for ${k}: must be a list`);
    const live = Array.isArray(target[field]) ? target[field] : [];
    const cs = childSchema(schema, field);
    const merged = Array.isArray(patch[field]) ? mergeList(live, patch[field], cs) : live;
    const key = resolveSchema(cs)?.mergeKey;
    if (Array.isArray(patch[field]) || Array.isArray(target[field])) target[field] = enforceOrder(merged, order, live, itemId(key));
    ordered.add(field);
  }
  for (const [k, v] of Object.entries(patch)) {
    if (ordered.has(k)) continue;
    if (v === undefined || k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(target[field]) && Array.isArray(v)) target[field] = target[field].filter((x: unknown) => !v.includes(x));
      continue;
    }
    const cs = childSchema(schema, k);
    if (v === null) {
      delete target[k];
    } else if (isObj(v)) {
      target[k] = mergeMap(isObj(target[k]) ? target[k] : {}, v, cs);
      if (target[k].$patch) delete target[k].$patch;
    } else if (Array.isArray(v)) {
      target[k] = mergeList(Array.isArray(target[k]) ? target[k] : [], v, cs);
    } else {
      target[k] = v;
    }
  }
  if (retain) for (const k of Object.keys(target)) if (!retain.includes(k)) delete target[k];
  return target;
}

function mergeList(target: any[], patch: any[], schema: Schema | undefined): any[] {
  const s = resolveSchema(schema);
  const strategy = s?.patchStrategy ?? '';
  const key = s?.mergeKey;
  if (!strategy.includes('merge')) {
    // Atomic list: replaced wholesale (but directive-only entries are dropped).
    return patch.filter((x) => !(isObj(x) && x.$patch)).map((x) => (isObj(x) ? stripDirectives(x) : x));
  }
  if (!target.length && !patch.length) return target;
  const id = itemId(key);
  if (!key) {
    // Merged primitive list (finalizers): the union, then ordered as below.
    const merged: any[] = [];
    for (const x of [...target, ...patch]) if (!merged.some((y) => id(y) === id(x))) merged.push(x);
    return enforceOrder(merged, patch, target, id);
  }
  let original = [...target];
  let items: any[] = [];
  let replace = false;
  for (const p of patch) {
    if (!isObj(p)) continue;
    if (p.$patch === 'delete') original = original.filter((t) => !(isObj(t) && t[key] === p[key]));
    else if (p.$patch === 'replace') replace = true;
    else if (p.$patch !== undefined) throw badRequest(`unknown patch type: ${String(p.$patch)} in map: ${JSON.stringify(p)}`);
    else items.push(p);
  }
  if (replace) {
    original = items.map(stripDirectives);
    items = [];
  }
  const merged = [...original];
  const itemSchema = s?.items;
  for (const p of items) {
    const idx = merged.findIndex((t) => isObj(t) && t[key] === p[key]);
    if (idx >= 0) merged[idx] = mergeMap(merged[idx], p, itemSchema);
    else merged.push(stripDirectives(clone(p)));
  }
  return enforceOrder(merged, items, original, id);
}

/** What identifies a list item: its merge key's value, or the item itself for primitives. */
function itemId(key: string | undefined): (x: unknown) => string {
  return (x) => JSON.stringify(key && isObj(x) ? x[key] : x);
}

/**
 * The order of a merged list, as apimachinery's strategicpatch gives it
 * (normalizeElementOrder): the items named in `order` (the patch's list or its
 * $setElementOrder) keep that order, the server-only items keep the live
 * object's order, and the two are interleaved where the live order relates
 * them. An item the live object lacks wins every comparison, so new items go
 * before the server-only ones (kubectl patch of env [TOKEN] with X gives [X, TOKEN]).
 */
function enforceOrder(merged: any[], order: any[], live: any[], id: (x: unknown) => string): any[] {
  const pos = (list: any[]) => {
    const m = new Map<string, number>();
    list.forEach((x, i) => {
      if (!m.has(id(x))) m.set(id(x), i);
    });
    return m;
  };
  const orderPos = pos(order);
  const livePos = pos(live);
  const byPos = (p: Map<string, number>) => (a: any, b: any) => (p.get(id(a)) ?? 0) - (p.get(id(b)) ?? 0);
  const patchItems = merged.filter((x) => orderPos.has(id(x))).sort(byPos(orderPos));
  const serverOnly = merged.filter((x) => !orderPos.has(id(x))).sort(byPos(livePos));
  const out: any[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < patchItems.length) {
    if (j >= patchItems.length) out.push(serverOnly[i++]);
    else if (i >= serverOnly.length) out.push(patchItems[j++]);
    else {
      const li = livePos.get(id(serverOnly[i]));
      const ri = livePos.get(id(patchItems[j]));
      if (li !== undefined && ri !== undefined && li < ri) out.push(serverOnly[i++]);
      else out.push(patchItems[j++]);
    }
  }
  return out;
}

function stripDirectives(v: any): any {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObj(v)) return v;
  const out: Record<string, any> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}
