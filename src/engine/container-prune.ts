// docker container prune: which stopped containers go. Running, paused and
// restarting containers stay; `label` filters keep only containers carrying
// the label (`key` or `key=value`), as dockerd's prune does.
import type { ContainerRecord } from './container-record.js';

export interface PruneFilters {
  label?: string[];
}

export function prunable(c: ContainerRecord, filters: PruneFilters): boolean {
  if (c.State.Running || c.State.Paused || c.State.Restarting) return false;
  return (filters.label ?? []).every((l) => (l.includes('=') ? c.Config.Labels[l.split('=')[0]!] === l.slice(l.indexOf('=') + 1) : l in c.Config.Labels));
}
