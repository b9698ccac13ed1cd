// Compose's scalar units: durations as Go writes them ("1m30s", "500ms") in
// nanoseconds, and byte sizes as docker's units package reads them ("64m",
// "1.5g", binary multiples) in bytes. Both throw a plain message; the caller
// adds the file, line and path.

const DUR_UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** A Go duration string (or a number of seconds) to nanoseconds. */
export function parseDuration(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.round(v * 1e9);
  if (typeof v !== 'string') throw new Error(`invalid duration ${JSON.stringify(v)}`);
  const s = v.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += parseFloat(m[1]!) * DUR_UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos === 0 || pos !== s.length) throw new Error(`invalid duration "${v}": use a number with a unit, as 10s, 1m30s or 500ms`);
  return Math.round(total);
}

/** Nanoseconds back to Go's duration string (what `docker compose config` prints). */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${trim(ns / 1e3)}µs`;
  if (ns < 1e9) return `${trim(ns / 1e6)}ms`;
  let out = '';
  let rest = ns;
  const h = Math.floor(rest / 3600e9);
  rest -= h * 3600e9;
  const m = Math.floor(rest / 60e9);
  rest -= m * 60e9;
  if (h) out += `${h}h`;
  if (h || m) out += `${m}m`;
  return `${out}${trim(rest / 1e9)}s`;
}

function trim(n: number): string {
  return String(Number(n.toFixed(9)));
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** "64m", "1g", "512k", "1.5gb" or a plain number to bytes (binary multiples, as docker's RAMInBytes). */
export function parseSize(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.floor(v);
  if (typeof v !== 'string') throw new Error(`invalid size ${JSON.stringify(v)}`);
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtpb]?)(?:i?b)?\s*$/i.exec(v);
  if (!m) throw new Error(`invalid size "${v}": use a number with an optional unit, as 64m or 1g`);
  return Math.floor(parseFloat(m[1]!) * SIZE_UNITS[m[2]!.toLowerCase()]!);
}
