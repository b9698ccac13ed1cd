// Cron schedules as Kubernetes reads them: robfig/cron's ParseStandard (five
// fields, names, ranges, steps, "?", the @yearly... descriptors and @every),
// and Schedule.next() in a time zone. The API server validates with parse();
// the CronJob controller computes start times with next(). Error texts are
// robfig's, since Kubernetes returns them verbatim in its 422 messages.

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const months = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const days = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const fieldBounds: Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: months },
  { min: 0, max: 6, names: days },
];

const descriptors: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** One parsed field: the allowed values, and whether it was "*" or "?" (robfig's star bit). */
interface Field {
  values: Set<number>;
  star: boolean;
}

export type Schedule =
  | { kind: 'spec'; minute: Field; hour: Field; dom: Field; month: Field; dow: Field }
  | { kind: 'every'; seconds: number };

export class CronSyntaxError extends Error {}

function parseInt10(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new CronSyntaxError(`failed to parse int from ${s}: strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  if (n < 0) throw new CronSyntaxError(`negative number (${n}) not allowed: ${s}`);
  return n;
}

function intOrName(s: string, names?: Record<string, number>): number {
  const named = names?.[s.toLowerCase()];
  return named !== undefined ? named : parseInt10(s);
}

function parseRange(expr: string, b: Bounds, into: Field): void {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0].split('-');
  const single = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = b.min;
    end = b.max;
    star = true;
  } else {
    start = intOrName(lowAndHigh[0], b.names);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = intOrName(lowAndHigh[1], b.names);
    else throw new CronSyntaxError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = parseInt10(rangeAndStep[1]);
    // "N/step" means "N-max/step".
    if (single) end = b.max;
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) throw new CronSyntaxError(`too many slashes: ${expr}`);
  if (start < b.min) throw new CronSyntaxError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) throw new CronSyntaxError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) throw new CronSyntaxError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronSyntaxError(`step of range should be a positive number: ${expr}`);
  for (let v = start; v <= end; v += step) into.values.add(v);
  into.star ||= star;
}

function parseField(text: string, b: Bounds): Field {
  const f: Field = { values: new Set(), star: false };
  for (const part of text.split(',')) parseRange(part, b, f);
  return f;
}

/** Go's time.ParseDuration for the units a schedule would use (h, m, s, ms). */
function parseGoDuration(s: string): number {
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  if (!s || s === '0') return 0;
  let total = 0;
  let at = 0;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * unit[m[2]];
    at = re.lastIndex;
  }
  if (at !== s.length) throw new CronSyntaxError(`failed to parse duration ${s}: time: invalid duration ${JSON.stringify(s)}`);
  return total;
}

/** Parses a schedule as robfig/cron's ParseStandard does; throws CronSyntaxError with robfig's message. */
export function parseSchedule(spec: string): Schedule {
  const text = spec.trim();
  if (!text) throw new CronSyntaxError('empty spec string');
  if (text.startsWith('@')) {
    if (text.startsWith('@every ')) {
      // Rounded down to whole seconds, at least one (robfig's ConstantDelaySchedule).
      const secs = Math.floor(parseGoDuration(text.slice(7).trim()));
      return { kind: 'every', seconds: Math.max(1, secs) };
    }
    const d = descriptors[text];
    if (!d) throw new CronSyntaxError(`unrecognized descriptor: ${text}`);
    return parseSchedule(d);
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 5) throw new CronSyntaxError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  const [minute, hour, dom, month, dow] = fields.map((f, i) => parseField(f, fieldBounds[i]));
  return { kind: 'spec', minute, hour, dom, month, dow };
}

/** Whether a schedule parses; the robfig message when it does not. */
export function scheduleError(spec: string): string | undefined {
  try {
    parseSchedule(spec);
    return undefined;
  } catch (err) {
    if (err instanceof CronSyntaxError) return err.message;
    throw err;
  }
}

// ---- time zones (through Intl, which ships the IANA database) ----

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(tz, f);
  }
  return f;
}

/** Whether Intl knows the zone (as Go's time.LoadLocation would find it). */
export function isKnownTimeZone(tz: string): boolean {
  try {
    formatterFor(tz);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at an instant, in ms (wall clock = instant + offset). */
export function zoneOffsetMs(tz: string, instant: number): number {
  if (tz === 'UTC' || tz === 'Etc/UTC') return 0;
  const parts: Record<string, number> = {};
  for (const p of formatterFor(tz).formatToParts(new Date(instant))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return wall - Math.floor(instant / 1000) * 1000;
}

/** The instant a wall-clock time (given as if it were UTC) names in tz. */
function fromWall(wall: number, tz: string): number {
  let inst = wall - zoneOffsetMs(tz, wall);
  inst = wall - zoneOffsetMs(tz, inst);
  return inst;
}

/** The zone a CronJob without spec.timeZone runs in: the controller's own, as kube-controller-manager's time.Local. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

const MINUTE = 60_000;

function dayMatches(s: Extract<Schedule, { kind: 'spec' }>, d: Date): boolean {
  const domMatch = s.dom.values.has(d.getUTCDate());
  const dowMatch = s.dow.values.has(d.getUTCDay());
  // As cron and robfig: with either day field a star, both must match; otherwise either may.
  return s.dom.star || s.dow.star ? domMatch && dowMatch : domMatch || dowMatch;
}

/**
 * The first activation strictly after `after` (ms since the epoch), in zone tz;
 * undefined if none within five years (robfig's bound, e.g. "0 0 30 2 *").
 */
export function nextAfter(s: Schedule, after: number, tz = 'UTC'): number | undefined {
  if (s.kind === 'every') return Math.floor(after / 1000) * 1000 + s.seconds * 1000;
  // Walk the wall clock (held in a Date read with UTC getters) from the next whole minute.
  let w = Math.floor((after + zoneOffsetMs(tz, after)) / MINUTE) * MINUTE + MINUTE;
  const limit = w + 5 * 366 * 24 * 60 * MINUTE;
  while (w < limit) {
    const d = new Date(w);
    if (!s.month.values.has(d.getUTCMonth() + 1)) {
      w = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      continue;
    }
    if (!dayMatches(s, d)) {
      w = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
      continue;
    }
    if (!s.hour.values.has(d.getUTCHours())) {
      w = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
      continue;
    }
    if (!s.minute.values.has(d.getUTCMinutes())) {
      w += MINUTE;
      continue;
    }
    const inst = fromWall(w, tz);
    // A wall time repeated or skipped by a DST change can map at or before `after`: keep walking.
    if (inst > after) return inst;
    w += MINUTE;
  }
  return undefined;
}

/** RFC 3339 in zone tz, as Go's time.Format(time.RFC3339): "2026-12-06T04:00:00Z" or "...+01:00". */
export function formatInZone(instant: number, tz: string): string {
  const off = zoneOffsetMs(tz, instant);
  const wall = new Date(instant + off).toISOString().replace(/\.\d+Z$/, '');
  if (off === 0) return `${wall}Z`;
  const m = Math.abs(off) / MINUTE;
  return `${wall}${off < 0 ? '-' : '+'}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}
