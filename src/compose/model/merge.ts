// The Compose Specification's merge rules, for several -f files and for
// `extends`: mappings merge key by key, sequences append (without repeating
// an equal entry), command / entrypoint / healthcheck.test are replaced, and
// the unique resources merge by their key: ports by {ip, target, published,
// protocol}, volumes by target, secrets and configs by target. `!reset`
// removes a key, `!override` replaces it whole.

import { portKey } from './ports.js';
import type { PartialService } from './service-normalize.js';
import { Override, RESET } from './yaml-source.js';

type Rec = Record<string, unknown>;

const isPlain = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/** Deep merge of plain YAML data (top-level networks, volumes, secrets, configs). */
export function mergeRaw(a: unknown, b: unknown): unknown {
  if (b === RESET) return undefined;
  if (b instanceof Override) return b.value;
  if (isPlain(a) && isPlain(b)) {
    const out: Rec = { ...a };
    for (const [k, v] of Object.entries(b)) {
      const m = mergeRaw(a[k], v);
      if (m === undefined) delete out[k];
      else out[k] = m;
    }
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) return appendUnique(a, b);
  return b === undefined ? a : b;
}

function appendUnique<T>(a: T[], b: T[], key: (x: T) => string = (x) => JSON.stringify(x)): T[] {
  const out = new Map<string, T>();
  for (const x of a) out.set(key(x), x);
  for (const x of b) {
    // An entry with the same key replaces the earlier one in its place.
    out.set(key(x), x);
  }
  return [...out.values()];
}

const REPLACED = new Set(['command', 'entrypoint', 'extends', 'origin', 'baseDir', 'reset', 'override']);
const BY_TARGET = (x: { target: string }): string => x.target;

/** `b` over `a` (b is the later file, or the extending service). */
export function mergeService(a: PartialService, b: PartialService): PartialService {
  const out: Rec = { ...a };
  delete out.reset;
  delete out.override;
  for (const [k, bv] of Object.entries(b)) {
    if (bv === undefined || k === 'reset' || k === 'override') continue;
    const av = (a as Rec)[k];
    if (av === undefined || REPLACED.has(k) || b.override?.includes(k)) {
      out[k] = bv;
      continue;
    }
    out[k] = mergeKey(k, av, bv);
  }
  for (const k of b.reset ?? []) delete out[k];
  return out as PartialService;
}

function mergeKey(k: string, av: unknown, bv: unknown): unknown {
  switch (k) {
    case 'sources':
      return [...(av as unknown[]), ...(bv as unknown[]).filter((x) => !(av as unknown[]).includes(x))];
    case 'ports':
      return appendUnique(av as never[], bv as never[], portKey);
    case 'volumes':
    case 'secrets':
    case 'configs':
      return appendUnique(av as never[], bv as never[], BY_TARGET);
    case 'env_file':
      return appendUnique(av as Array<{ path: string }>, bv as Array<{ path: string }>, (x) => x.path);
    case 'extra_hosts':
      return appendUnique(av as string[], bv as string[], (line) => line.slice(0, line.indexOf(':')));
    case 'healthcheck': {
      const m = { ...(av as Rec), ...(bv as Rec) };
      // A later test replaces the earlier; `disable` on the later one wins too.
      if ((bv as Rec).test === undefined || (bv as { test: unknown[] }).test.length === 0) m.test = (av as Rec).test;
      return m;
    }
    case 'logging': {
      const x = av as { driver?: string; options: Rec };
      const y = bv as { driver?: string; options: Rec };
      // A different driver does not inherit the other driver's options.
      if (y.driver !== undefined && x.driver !== undefined && y.driver !== x.driver) return y;
      return { ...x, ...y, options: { ...x.options, ...y.options } };
    }
    case 'networks':
    case 'depends_on':
    case 'refPaths':
    case 'ulimits':
      return { ...(av as Rec), ...(bv as Rec) };
    default:
      return mergeRaw(av, bv);
  }
}
