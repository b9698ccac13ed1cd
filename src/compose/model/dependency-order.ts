// Start order of a project's services: every service after the services it
// depends on (depends_on, which the loader already extended with links,
// network_mode, ipc and pid service:X, and volumes_from). Stop order is the reverse. A cycle
// is refused with its path ("web -> api -> web").

import { invalid } from '../../errdefs.js';
import type { ComposeProject, DependsOnConfig } from './project-types.js';

/** Throws on the first cycle found, naming it. */
export function findCycle(deps: Record<string, Record<string, DependsOnConfig>>): void {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): void => {
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'visiting') {
      const from = stack.indexOf(n);
      throw invalid(`dependency cycle detected: ${[...stack.slice(from), n].join(' -> ')}`);
    }
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of Object.keys(deps[n] ?? {}).sort()) if (d in deps) visit(d);
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of Object.keys(deps).sort()) visit(n);
}

/** Services in start order (dependencies first; otherwise by name, so the order is stable). */
export function dependencyOrder(project: Pick<ComposeProject, 'services'>): string[] {
  const deps: Record<string, Record<string, DependsOnConfig>> = {};
  for (const [name, svc] of Object.entries(project.services)) deps[name] = svc.depends_on;
  findCycle(deps);
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (n: string): void => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const d of Object.keys(deps[n] ?? {}).sort()) if (d in deps) visit(d);
    out.push(n);
  };
  for (const n of Object.keys(deps).sort()) visit(n);
  return out;
}

/** Services in stop order: dependents before what they depend on. */
export function stopOrder(project: Pick<ComposeProject, 'services'>): string[] {
  return dependencyOrder(project).reverse();
}
