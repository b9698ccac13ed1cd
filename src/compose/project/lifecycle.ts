// start, stop, restart, kill, pause, unpause and rm over a project's
// containers: stop-like verbs walk services in reverse dependency order
// (dependents first), start-like verbs in dependency order, as docker
// compose does; the containers of one service are handled together.
import { isKind } from '../../errdefs.js';
import type { ComposeProject } from '../model/project-types.js';
import { waitForCondition } from './dependency-wait.js';
import { inDependencyOrder } from './graph.js';
import type { ProjectContainer } from './project-state.js';
import { step } from './progress.js';
import type { Runtime } from './runtime.js';

/** Stops (unless stop is false) and removes the containers, with their anonymous volumes when asked. */
export async function removeContainers(rt: Runtime, list: ProjectContainer[], opts: { stop?: boolean; timeout?: number; volumes?: boolean }): Promise<void> {
  await Promise.all(
    list.map(async (c) => {
      if (opts.stop && (c.state === 'running' || c.state === 'paused' || c.state === 'restarting')) {
        await step(rt.progress, 'Container', c.name, 'Stopping', 'Stopped', () => ignoreGone(rt.engine.stopContainer(c.id, opts.timeout)));
      }
      await step(rt.progress, 'Container', c.name, 'Removing', 'Removed', () => ignoreGone(rt.engine.removeContainer(c.id, { force: true, volumes: opts.volumes })));
    }),
  );
}

/** A container that went away meanwhile (auto-remove, another client) needs nothing more. */
async function ignoreGone(p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!isKind(e, 'not-found')) throw e;
  }
}

export type Verb = 'start' | 'stop' | 'restart' | 'kill' | 'pause' | 'unpause';

const WORDS: Record<Verb, [string, string]> = {
  start: ['Starting', 'Started'],
  stop: ['Stopping', 'Stopped'],
  restart: ['Restarting', 'Started'],
  kill: ['Killing', 'Killed'],
  pause: ['Pausing', 'Paused'],
  unpause: ['Unpausing', 'Unpaused'],
};

/** Applies a verb to the containers, service by service in the order the verb needs. */
export async function applyVerb(rt: Runtime, project: ComposeProject, containers: ProjectContainer[], verb: Verb, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
  const byService = new Map<string, ProjectContainer[]>();
  for (const c of containers) byService.set(c.service, [...(byService.get(c.service) ?? []), c]);
  const known = [...byService.keys()].filter((s) => project.services[s]);
  const unknown = [...byService.keys()].filter((s) => !project.services[s]);
  const direction = verb === 'stop' || verb === 'kill' || verb === 'pause' ? 'down' : 'up';
  const run = async (service: string): Promise<void> => {
    // start waits for depends_on conditions (healthy, completed) as up does.
    if (verb === 'start') {
      for (const [dep, cond] of Object.entries(project.services[service]?.depends_on ?? {})) {
        if (byService.has(dep)) await waitForCondition(rt, dep, cond, byService.get(dep)!.map((c) => ({ id: c.id, name: c.name })));
      }
    }
    await Promise.all(
      (byService.get(service) ?? []).map((c) => {
        if (!applies(verb, c.state)) return undefined;
        const [doing, done] = WORDS[verb];
        return step(rt.progress, 'Container', c.name, doing, done, () => call(rt, verb, c.id, opts));
      }),
    );
  };
  await inDependencyOrder(project.services, known, direction, run);
  for (const s of unknown) await run(s);
}

/** Skips what compose skips: starting a running container, stopping a stopped one. */
function applies(verb: Verb, state: string): boolean {
  switch (verb) {
    case 'start':
      return state !== 'running' && state !== 'paused';
    case 'stop':
    case 'kill':
      return state === 'running' || state === 'paused' || state === 'restarting';
    case 'pause':
      return state === 'running';
    case 'unpause':
      return state === 'paused';
    default:
      return true;
  }
}

function call(rt: Runtime, verb: Verb, id: string, opts: { timeout?: number; signal?: string }): Promise<void> {
  const e = rt.engine;
  switch (verb) {
    case 'start':
      return e.startContainer(id);
    case 'stop':
      return e.stopContainer(id, opts.timeout);
    case 'restart':
      return e.restartContainer(id, opts.timeout);
    case 'kill':
      return e.killContainer(id, opts.signal);
    case 'pause':
      return e.pauseContainer(id);
    case 'unpause':
      return e.unpauseContainer(id);
  }
}
