// Label and field selectors in the Kubernetes query syntax
// (app=web,tier!=db,env in (a,b),!legacy) compiled to predicates.
import type { KObject, ResourceType } from './resource-type.js';
import { TugError } from '../../errdefs.js';

/** 400 BadRequest, as the API server answers a selector it cannot parse. */
const badRequest = (message: string): TugError => new TugError('invalid', message, { reason: 'BadRequest' });

type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

export type Predicate = (obj: KObject) => boolean;

/** Splits on commas that are not inside parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

export function parseLabelSelector(sel: string): Requirement[] {
  const reqs: Requirement[] = [];
  for (const part of splitTop(sel)) {
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^([^\s!=()]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      reqs.push({ op: m[2] as 'in' | 'notin', key: m[1], values: m[3].split(',').map((v) => v.trim()).filter((v) => v !== '') });
    } else if ((m = part.match(/^([^\s!=()]+)\s*!=\s*(\S*)$/))) {
      reqs.push({ op: 'neq', key: m[1], value: m[2] });
    } else if ((m = part.match(/^([^\s!=()]+)\s*==?\s*(\S*)$/))) {
      reqs.push({ op: 'eq', key: m[1], value: m[2] });
    } else if ((m = part.match(/^!\s*([^\s!=()]+)$/))) {
      reqs.push({ op: 'notexists', key: m[1] });
    } else if ((m = part.match(/^([^\s!=()]+)$/))) {
      reqs.push({ op: 'exists', key: m[1] });
    } else {
      throw badRequest(`unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, exists`);
    }
  }
  return reqs;
}

function matches(reqs: Requirement[], get: (k: string) => string | undefined): boolean {
  return reqs.every((r) => {
    const v = get(r.key);
    switch (r.op) {
      case 'eq':
        return v === r.value;
      case 'neq':
        return v !== r.value;
      case 'in':
        return v !== undefined && r.values.includes(v);
      case 'notin':
        return v === undefined || !r.values.includes(v);
      case 'exists':
        return v !== undefined;
      case 'notexists':
        return v === undefined;
    }
  });
}

export function labelPredicate(sel: string | undefined): Predicate | undefined {
  if (!sel) return undefined;
  const reqs = parseLabelSelector(sel);
  return (o) => matches(reqs, (k) => o.metadata?.labels?.[k]);
}

/** Matches labels against a metav1.LabelSelector object (matchLabels + matchExpressions). */
export function labelSelectorMatches(sel: any, labels: Record<string, string> | undefined): boolean {
  if (!sel) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const v = l[e.key];
    if (e.operator === 'In' && !(v !== undefined && e.values?.includes(v))) return false;
    if (e.operator === 'NotIn' && v !== undefined && e.values?.includes(v)) return false;
    if (e.operator === 'Exists' && v === undefined) return false;
    if (e.operator === 'DoesNotExist' && v !== undefined) return false;
  }
  return true;
}

export function fieldPredicate(t: ResourceType, sel: string | undefined): Predicate | undefined {
  if (!sel) return undefined;
  const reqs = parseLabelSelector(sel);
  const getters: Record<string, (o: KObject) => string | undefined> = {
    'metadata.name': (o) => o.metadata?.name,
    ...(t.namespaced ? { 'metadata.namespace': (o: KObject) => o.metadata?.namespace } : {}),
    ...(t.fieldSelectors ?? {}),
  };
  for (const r of reqs) {
    if (r.op !== 'eq' && r.op !== 'neq') throw badRequest(`invalid field selector "${sel}": only =, == and != are supported`);
    if (!getters[r.key]) throw badRequest(`field label not supported: ${r.key}`);
  }
  return (o) => matches(reqs, (k) => getters[k](o) ?? '');
}

/**
 * The object name a field selector pins (metadata.name=X, alone or with other
 * terms), as kube-apiserver's request info takes it for a list or watch: the
 * authorizers then judge the request as a read of that one object (the Node
 * authorizer lets a node watch one ConfigMap its pods use). A selector that
 * does not parse names nothing here; the list itself reports it.
 */
export function fieldSelectorName(sel: string | null | undefined): string | undefined {
  if (!sel) return undefined;
  let reqs: Requirement[];
  try {
    reqs = parseLabelSelector(sel);
  } catch {
    return undefined;
  }
  const names = reqs.filter((r) => r.key === 'metadata.name');
  const only = names.length === 1 ? names[0] : undefined;
  // A path segment name, as Kubernetes requires of it (IsValidPathSegmentName).
  return only?.op === 'eq' && only.value && only.value !== '.' && only.value !== '..' && !/[/%]/.test(only.value) ? only.value : undefined;
}

export function both(a: Predicate | undefined, b: Predicate | undefined): Predicate | undefined {
  if (a && b) return (o) => a(o) && b(o);
  return a ?? b;
}
