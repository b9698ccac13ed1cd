// Signal names as users type them ('SIGTERM', 'TERM', 'term', 15, '15') into
// the canonical name runc understands.
import { constants } from 'node:os';
import { invalid } from '../errdefs.js';

const byNumber = new Map<number, string>();
for (const [name, num] of Object.entries(constants.signals)) {
  if (!byNumber.has(num)) byNumber.set(num, name);
}

export function parseSignal(sig: string | number): string {
  if (typeof sig === 'number' || /^\d+$/.test(String(sig).trim())) {
    const n = Number(sig);
    const name = byNumber.get(n);
    if (!name || n <= 0) throw invalid(`invalid signal: ${sig}`);
    return name;
  }
  let s = String(sig).trim().toUpperCase();
  if (!s.startsWith('SIG')) s = 'SIG' + s;
  if (!(s in constants.signals)) throw invalid(`invalid signal: ${sig}`);
  return s;
}
