// The engine's view of one pod, grouped: its sandbox (the pinned namespaces
// and address, engine/pod-sandboxes.ts: no container of its own), and per
// container name every attempt (newest last). Read fresh from the engine on
// every sync, so the agent's view survives its own restart (adoption by labels).
import type { Engine } from '../../engine/engine.js';
import type { ContainerRecord } from '../../engine/container-record.js';
import type { PodSandbox } from '../../engine/pod-sandboxes.js';
import { L } from './labels.js';

export interface PodContainers {
  sandbox?: PodSandbox;
  /** Whether the sandbox's namespaces are there to join. */
  sandboxLive: boolean;
  /** Older sandboxes (dead ones replaced by a new one). */
  staleSandboxes: PodSandbox[];
  init: Map<string, ContainerRecord[]>;
  app: Map<string, ContainerRecord[]>;
  all: ContainerRecord[];
}

const attemptOf = (labels: Record<string, string>): number => Number(labels[L.attempt]);

export function podContainers(engine: Engine, uid: string): PodContainers {
  const all = engine.containers.all().filter((c) => c.Config.Labels?.[L.podUid] === uid);
  const byAttempt = (a: ContainerRecord, b: ContainerRecord): number => attemptOf(a.Config.Labels) - attemptOf(b.Config.Labels) || a.Created.localeCompare(b.Created);
  all.sort(byAttempt);
  const sandboxes = podSandboxes(engine, uid);
  const sandbox = sandboxes.pop();
  const out: PodContainers = { sandbox, sandboxLive: sandbox ? engine.pods.isLive(sandbox) : false, staleSandboxes: sandboxes, init: new Map(), app: new Map(), all };
  for (const c of all) {
    // A sandbox container of an agent from before pinned namespaces: only in `all`, so the pod is made afresh.
    if (c.Config.Labels[L.role] === 'sandbox') continue;
    const m = c.Config.Labels[L.role] === 'init' ? out.init : out.app;
    const name = c.Config.Labels[L.container];
    m.set(name, [...(m.get(name) ?? []), c]);
  }
  return out;
}

/** The pod's sandboxes, oldest first. */
export function podSandboxes(engine: Engine, uid: string): PodSandbox[] {
  return engine.pods
    .all()
    .filter((s) => s.labels[L.podUid] === uid)
    .sort((a, b) => attemptOf(a.labels) - attemptOf(b.labels) || a.created.localeCompare(b.created));
}

/** The live sandbox of a pod named ns/name on this node (port-forward, exec probes). */
export function liveSandboxOf(engine: Engine, ns: string, name: string): PodSandbox | undefined {
  return engine.pods.all().find((s) => s.labels[L.podNamespace] === ns && s.labels[L.podName] === name && engine.pods.isLive(s));
}

/** The uids of every pod with containers or a sandbox in this engine. */
export function podUidsInEngine(engine: Engine): Map<string, string> {
  const out = new Map<string, string>();
  for (const labels of [...engine.containers.all().map((c) => c.Config.Labels), ...engine.pods.all().map((s) => s.labels)]) {
    const uid = labels?.[L.podUid];
    if (uid) out.set(uid, `${labels[L.podNamespace]}/${labels[L.podName]}`);
  }
  return out;
}
