// Human-readable sizes, durations and timestamps exactly as docker renders them
// (docker/go-units and docker's timetypes), so scripts that read our output
// see the same strings.
import { UsageError } from '../args.js';

const decimalUnits = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const binaryUnits = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** Go's %.Ng: N significant digits, trailing zeros dropped. */
function goG(v: number, precision: number): string {
  let s = v.toPrecision(precision);
  if (s.includes('e')) return String(Number(s));
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

function customSize(size: number, precision: number, base: number, units: string[]): string {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return `${goG(size, precision)}${units[i]}`;
}

/** go-units HumanSizeWithPrecision: decimal units ("1.99MB"); docker images uses precision 3. */
export function humanSize(bytes: number, precision = 4): string {
  return customSize(bytes, precision, 1000, decimalUnits);
}

/** go-units BytesSize: binary units ("1.5MiB"), as in docker stats. */
export function bytesSize(bytes: number): string {
  return customSize(bytes, 4, 1024, binaryUnits);
}

/** go-units RAMInBytes: "512m", "1g", "100000" (binary multiples). */
export function ramInBytes(s: string, flag = 'memory'): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i.exec(s.trim());
  if (!m) throw new UsageError(`invalid argument "${s}" for "--${flag}" flag: invalid size: '${s}'`);
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  return Math.round(Number(m[1]) * mult[m[2]!.toLowerCase()]!);
}

import { humanDuration } from '../../util/human-duration.js';

export { humanDuration };

/** "2 minutes ago" for a unix-seconds timestamp. */
export function ago(unixSeconds: number, now = Date.now()): string {
  return `${humanDuration(now - unixSeconds * 1000)} ago`;
}

/** Go's time.Time.String() in the local zone: "2026-11-21 14:30:16 +0000 UTC". */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + off * 60_000);
  const p = (n: number): string => String(n).padStart(2, '0');
  const sign = off >= 0 ? '+' : '-';
  const zone = `${sign}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
  const name = off === 0 ? 'UTC' : zone;
  return (
    `${local.getUTCFullYear()}-${p(local.getUTCMonth() + 1)}-${p(local.getUTCDate())} ` +
    `${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())} ${zone} ${name}`
  );
}

/** RFC3339 with fixed 9-digit nanoseconds, as docker events and logs -t print. */
export function rfc3339NanoFixed(unixNanos: bigint): string {
  const ms = Number(unixNanos / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2026-11-21T14:30:16.123Z
  const ns = String(unixNanos % 1_000_000_000n).padStart(9, '0');
  return `${iso.slice(0, 19)}.${ns}Z`;
}

/** Go duration strings: "10m", "1h30m", "1.5s", "300ms". Returns milliseconds or undefined. */
export function parseGoDuration(s: string): number | undefined {
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  if (!s || !/^\d/.test(s)) return undefined;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * unit[m[2]!]!;
    pos = re.lastIndex;
  }
  return total;
}

/**
 * docker's timetypes.GetTimestamp: a Go duration counts back from now, else
 * RFC3339 / date forms, else a unix timestamp "seconds[.nanos]". Returns the
 * API's "seconds.nanoseconds" string.
 */
export function apiTimestamp(value: string, now = Date.now()): string {
  const d = parseGoDuration(value);
  if (d !== undefined) {
    const t = now - d;
    return `${Math.floor(t / 1000)}.${String(Math.round((t % 1000) * 1e6)).padStart(9, '0')}`;
  }
  if (/^\d+(\.\d+)?$/.test(value)) {
    const [sec, frac = ''] = value.split('.');
    return `${sec}.${frac.padEnd(9, '0').slice(0, 9)}`;
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    // Dates without a zone are local time, as docker reads them.
    const t = Date.parse(value.includes('T') || value.length > 10 ? value : `${value}T00:00:00`);
    if (!Number.isNaN(t)) {
      const fracM = /\.(\d+)/.exec(value);
      const nanos = fracM ? fracM[1]!.padEnd(9, '0').slice(0, 9) : '000000000';
      return `${Math.floor(t / 1000)}.${nanos}`;
    }
  }
  throw new UsageError(`failed to parse value as time or duration: "${value}"`);
}

/** Go's strconv.Quote for the printable ASCII docker shows in COMMAND columns. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** docker's Ellipsis: cut to max display chars, last one an ellipsis. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  if (max <= 1) return chars.slice(0, max).join('');
  return `${chars.slice(0, max - 1).join('')}…`;
}
