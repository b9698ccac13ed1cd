// Command-line values for durations ("2s", "1500ms", "1m", or bare seconds, as
// Kubernetes' Go duration flags read) and whole-number seconds.
import { invalid } from '../errdefs.js';

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration in milliseconds, positive or at least minMs; `what` names the flag in the error. */
export function parseDurationMs(v: string, what: string, minMs?: number): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  const ms = m ? Number(m[1]) * units[m[2] ?? 's'] : NaN;
  if (minMs === undefined ? !(ms > 0) : !(ms >= minMs)) throw invalid(`${what} "${v}" is not a duration${minMs ? ` of at least ${minMs}ms` : ''} (say 2s, 1500ms or 1m)`);
  return ms;
}

/** A whole number of seconds (undefined stays undefined); zero only when allowZero. */
export function positiveInt(v: string | undefined, what: string, allowZero = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw invalid(`${what} "${v}" is not a ${allowZero ? 'non-negative' : 'positive'} whole number`);
  return n;
}
