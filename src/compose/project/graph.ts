// Running work over services in dependency order, as compose's graph
// traversal does: a service's work starts once the work of everything it
// depends on has finished (in reverse, once everything that depends on it has),
// and independent services run at the same time. A failed service stops
// nothing already running; the services that wait on it are not started.
import { findCycle } from '../model/dependency-order.js';
import type { ServiceConfig } from '../model/project-types.js';

export type Direction = 'up' | 'down';

/**
 * Calls work(name) for each of `names` once its neighbours in `names` are done
 * (dependencies for 'up', dependents for 'down'). Rejects with the first
 * failure after every started piece of work has settled.
 */
export async function inDependencyOrder(
  services: Record<string, ServiceConfig>,
  names: string[],
  direction: Direction,
  work: (name: string) => Promise<void>,
): Promise<void> {
  const chosen = new Set(names);
  const before = new Map<string, string[]>();
  for (const n of names) before.set(n, []);
  for (const n of names) {
    for (const dep of Object.keys(services[n]?.depends_on ?? {})) {
      if (!chosen.has(dep)) continue;
      if (direction === 'up') before.get(n)!.push(dep);
      else before.get(dep)!.push(n);
    }
  }
  findCycle(Object.fromEntries(names.map((n) => [n, services[n]?.depends_on ?? {}])));
  const running = new Map<string, Promise<void>>();
  const run = (n: string): Promise<void> => {
    let p = running.get(n);
    if (!p) {
      p = Promise.all(before.get(n)!.map(run)).then(() => work(n));
      running.set(n, p);
    }
    return p;
  };
  const results = await Promise.allSettled(names.map(run));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** The services `names` need: themselves and everything they depend on, transitively. */
export function withDependencies(services: Record<string, ServiceConfig>, names: string[]): string[] {
  const out = new Set<string>();
  const add = (n: string): void => {
    if (out.has(n) || !services[n]) return;
    out.add(n);
    for (const d of Object.keys(services[n]!.depends_on)) add(d);
  };
  names.forEach(add);
  return [...out];
}
