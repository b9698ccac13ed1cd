// --filter key=value (repeatable) → the API's JSON filters {"key":["v1","v2"]}.
import { UsageError } from '../args.js';

export function filtersParam(list: string[]): string | undefined {
  if (!list.length) return undefined;
  const f: Record<string, string[]> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid argument "${item}" for "-f, --filter" flag: bad format of filter (expected name=value)`);
    const key = item.slice(0, eq).trim().toLowerCase();
    (f[key] ??= []).push(item.slice(eq + 1));
  }
  return JSON.stringify(f);
}
