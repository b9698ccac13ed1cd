// compose start / stop / restart / kill / pause / unpause / rm: the project's
// (or the named services') containers, in dependency order, through the
// runtime's verbs.
import { applyVerb, removeContainers, type Verb } from '../../compose/project/lifecycle.js';
import { serviceContainers } from '../../compose/project/project-state.js';
import { flags, parse } from '../args.js';
import { confirm } from '../context.js';
import { servicesArg, type ComposeCtx } from './compose.js';

async function verb(c: ComposeCtx, argv: string[], v: Verb, extra: string[] = []): Promise<number> {
  const o = parse(argv, flags(...extra));
  const project = await c.project();
  const containers = await serviceContainers(c.engine, project, servicesArg(project, o.args));
  const rt = c.runtime();
  try {
    await applyVerb(rt, project, containers, v, { timeout: o.int('timeout'), signal: o.str('signal') });
  } finally {
    rt.view.finish();
  }
  return 0;
}

export const composeStart = (c: ComposeCtx, argv: string[]): Promise<number> => verb(c, argv, 'start', ['bool:wait']);
export const composeStop = (c: ComposeCtx, argv: string[]): Promise<number> => verb(c, argv, 'stop', ['string:timeout,t']);
export const composeRestart = (c: ComposeCtx, argv: string[]): Promise<number> => verb(c, argv, 'restart', ['string:timeout,t', 'bool:no-deps']);
export const composeKill = (c: ComposeCtx, argv: string[]): Promise<number> => verb(c, argv, 'kill', ['string:signal,s', 'bool:remove-orphans']);
export const composePause = (c: ComposeCtx, argv: string[]): Promise<number> => verb(c, argv, 'pause');
export const composeUnpause = (c: ComposeCtx, argv: string[]): Promise<number> => verb(c, argv, 'unpause');

export async function composeRm(c: ComposeCtx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:force,f', 'bool:stop,s', 'bool:volumes,v', 'bool:all,a'));
  const project = await c.project();
  const all = await serviceContainers(c.engine, project, servicesArg(project, o.args));
  if (o.bool('stop')) {
    const rt = c.runtime();
    try {
      await applyVerb(rt, project, all, 'stop');
    } finally {
      rt.view.finish();
    }
  }
  const list = (await serviceContainers(c.engine, project, servicesArg(project, o.args))).filter((x) => x.state !== 'running' && x.state !== 'paused' && x.state !== 'restarting');
  if (!list.length) {
    c.ctx.err('No stopped containers\n');
    return 0;
  }
  if (!o.bool('force') && !(await confirm(c.ctx, `Going to remove ${list.map((x) => x.name).join(', ')}`))) return 0;
  const rt = c.runtime();
  try {
    await removeContainers(rt, list, { volumes: o.bool('volumes') });
  } finally {
    rt.view.finish();
  }
  return 0;
}
