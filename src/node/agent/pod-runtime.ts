// The engine containers of one pod, grouped: the current sandbox, and per
// container name every attempt (newest last). Read fresh from the engine on
// every sync, so the agent's view survives its own restart (adoption by labels).
import type { Engine } from '../../engine/engine.js';
import type { ContainerRecord } from '../../engine/container-record.js';
import { L } from './labels.js';

export interface PodContainers {
  sandbox?: ContainerRecord;
  /** Older sandboxes (dead ones replaced by a new one). */
  staleSandboxes: ContainerRecord[];
  init: Map<string, ContainerRecord[]>;
  app: Map<string, ContainerRecord[]>;
  all: ContainerRecord[];
}

export function podContainers(engine: Engine, uid: string): PodContainers {
  const all = engine.containers.all().filter((c) => c.Config.Labels?.[L.podUid] === uid);
  const byAttempt = (a: ContainerRecord, b: ContainerRecord): number => Number(a.Config.Labels[L.attempt]) - Number(b.Config.Labels[L.attempt]) || a.Created.localeCompare(b.Created);
  all.sort(byAttempt);
  const out: PodContainers = { staleSandboxes: [], init: new Map(), app: new Map(), all };
  for (const c of all) {
    const role = c.Config.Labels[L.role];
    if (role === 'sandbox') {
      if (out.sandbox) out.staleSandboxes.push(out.sandbox);
      out.sandbox = c;
      continue;
    }
    const m = role === 'init' ? out.init : out.app;
    const name = c.Config.Labels[L.container];
    m.set(name, [...(m.get(name) ?? []), c]);
  }
  return out;
}

/** The uids of every pod with containers in this engine. */
export function podUidsInEngine(engine: Engine): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of engine.containers.all()) {
    const uid = c.Config.Labels?.[L.podUid];
    if (uid) out.set(uid, `${c.Config.Labels[L.podNamespace]}/${c.Config.Labels[L.podName]}`);
  }
  return out;
}
