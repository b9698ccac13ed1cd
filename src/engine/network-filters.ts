// docker network ls and prune filters, as dockerd reads them: ls takes name
// (substring), id (prefix), label (key or key=value), driver, scope, type
// (custom or builtin) and dangling; prune takes until (a timestamp or a Go
// duration ago) and label / label! (networks with or without the label).
import { invalid } from '../errdefs.js';

export interface NetworkFacts {
  name: string;
  id: string;
  driver: string;
  builtin: boolean;
  labels: Record<string, string>;
  created: string;
  /** Containers with an endpoint on it (running ones). */
  inUse: boolean;
}

const listKeys = new Set(['name', 'id', 'label', 'driver', 'scope', 'type', 'dangling']);
const pruneKeys = new Set(['until', 'label', 'label!']);

function hasLabel(labels: Record<string, string>, l: string): boolean {
  const i = l.indexOf('=');
  return i < 0 ? l in labels : labels[l.slice(0, i)] === l.slice(i + 1);
}

function boolOf(v: string, key: string): boolean {
  if (/^(1|true)$/i.test(v)) return true;
  if (/^(0|false)$/i.test(v)) return false;
  throw invalid(`Invalid filter '${key}=${v}'`);
}

export function networkListFilter(filters: Record<string, string[]>): (n: NetworkFacts) => boolean {
  for (const k of Object.keys(filters)) if (!listKeys.has(k)) throw invalid(`Invalid filter '${k}'`);
  for (const t of filters.type ?? []) if (t !== 'custom' && t !== 'builtin') throw invalid(`invalid filter: 'type'='${t}'`);
  const dangling = (filters.dangling ?? []).map((v) => boolOf(v, 'dangling'));
  const any = (key: string, pred: (v: string) => boolean): boolean => !filters[key]?.length || filters[key]!.some(pred);
  return (n) =>
    any('name', (v) => n.name.includes(v)) &&
    any('id', (v) => n.id.startsWith(v)) &&
    any('driver', (v) => n.driver === v) &&
    any('scope', (v) => v === 'local') &&
    any('type', (v) => (v === 'builtin') === n.builtin) &&
    (filters.label ?? []).every((l) => hasLabel(n.labels, l)) &&
    dangling.every((d) => (d ? !n.builtin && !n.inUse : n.builtin || n.inUse));
}

const durationUnits: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A timestamp (unix seconds, RFC 3339) or a Go duration before now. */
export function untilOf(v: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v)) {
    let ms = 0;
    for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * durationUnits[m[2]!]!;
    return now - ms;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalid(`invalid filter 'until=${v}': neither a timestamp nor a duration`);
  return t;
}

export function networkPruneFilter(filters: Record<string, string[]>): (n: NetworkFacts) => boolean {
  for (const k of Object.keys(filters)) if (!pruneKeys.has(k)) throw invalid(`Invalid filter '${k}'`);
  const until = (filters.until ?? []).map((v) => untilOf(v));
  return (n) =>
    until.every((t) => Date.parse(n.created) < t) &&
    (filters.label ?? []).every((l) => hasLabel(n.labels, l)) &&
    (filters['label!'] ?? []).every((l) => !hasLabel(n.labels, l));
}
