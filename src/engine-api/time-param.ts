// Docker's since/until query values: unix seconds with optional fraction
// ("1700000000.123456789"), or RFC 3339. Empty or "0" means unset.
import { invalid } from '../errdefs.js';

export function parseTimeParam(v: string | null): Date | undefined {
  if (v === null || v === '' || v === '0') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return new Date(Number(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalid(`invalid time value: ${v}`);
  return new Date(t);
}
