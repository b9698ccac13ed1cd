// compose up / create / down: flags to options, the runtime's convergence,
// and `up`'s attached mode (without -d): the containers' logs behind service
// prefixes until they all exit, Ctrl-C stopping the project
// ("Gracefully stopping..."), --abort-on-container-exit stopping it when the
// first container exits.
import { down } from '../../compose/project/down.js';
import { applyVerb } from '../../compose/project/lifecycle.js';
import { projectContainers } from '../../compose/project/project-state.js';
import { up, type UpContainer, type UpOptions } from '../../compose/project/up.js';
import { flags, parse, UsageError, type Opts } from '../args.js';
import { servicesArg, type ComposeCtx } from './compose.js';
import { followAll, LogPrinter, shortName } from './compose-logs.js';

const CONVERGE_FLAGS = [
  'bool:build',
  'bool:no-build',
  'string:pull',
  'bool:force-recreate',
  'bool:no-recreate',
  'list:scale',
  'bool:remove-orphans',
  'bool:quiet-pull',
  'bool:always-recreate-deps',
  'bool:renew-anon-volumes,V',
] as const;

const UP_FLAGS = flags(
  ...CONVERGE_FLAGS,
  'bool:detach,d',
  'bool:no-deps',
  'bool:no-start',
  'bool:wait',
  'string:wait-timeout',
  'bool:abort-on-container-exit',
  'string:exit-code-from',
  'string:timeout,t',
  'bool:no-color',
  'bool:no-log-prefix',
  'bool:timestamps',
  'bool:attach-dependencies',
  'list:attach',
  'list:no-attach',
  'bool:yes,y',
);

function scaleOf(list: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of list) {
    const m = /^([^=]+)=(\d+)$/.exec(s);
    if (!m) throw new UsageError(`invalid --scale "${s}": use SERVICE=NUM`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

function convergeOptions(o: Opts, services: string[]): UpOptions {
  if (o.bool('force-recreate') && o.bool('no-recreate')) throw new UsageError('--force-recreate and --no-recreate are incompatible');
  if (o.bool('build') && o.bool('no-build')) throw new UsageError('--build and --no-build are incompatible');
  const pull = o.str('pull');
  if (pull !== undefined && !['always', 'missing', 'never', 'build', 'policy'].includes(pull)) throw new UsageError(`invalid --pull option "${pull}"`);
  return {
    services,
    forceRecreate: o.bool('force-recreate'),
    noRecreate: o.bool('no-recreate'),
    scale: scaleOf(o.list('scale')),
    removeOrphans: o.bool('remove-orphans') || process.env.COMPOSE_REMOVE_ORPHANS === 'true',
    images: { build: o.bool('build'), noBuild: o.bool('no-build'), pull: pull === 'policy' ? undefined : pull },
  };
}

export async function composeUp(c: ComposeCtx, argv: string[]): Promise<number> {
  const o = parse(argv, UP_FLAGS);
  const project = await c.project(o.args);
  const services = servicesArg(project, o.args);
  const abort = o.bool('abort-on-container-exit') || o.has('exit-code-from');
  const detach = o.bool('detach') || o.bool('wait');
  if (detach && abort) throw new UsageError('--abort-on-container-exit and --detach are incompatible');
  const timeout = o.int('timeout');
  const opts: UpOptions = { ...convergeOptions(o, services), noDeps: o.bool('no-deps'), noStart: o.bool('no-start'), wait: o.bool('wait'), waitTimeout: o.int('wait-timeout'), timeout };
  const rt = c.runtime();
  // Logs from this moment on: a container up restarted shows its new output only, as compose's attach does.
  const since = (Date.now() / 1000).toFixed(3);
  let result: UpContainer[];
  try {
    result = await up(rt, project, opts);
  } finally {
    rt.view.finish();
  }
  if (detach || opts.noStart) return 0;
  // Which logs to follow: --attach, else all but --no-attach and services with `attach: false`.
  const only = o.list('attach');
  const skip = new Set(o.list('no-attach'));
  const shown = result.filter((x) => (only.length ? only.includes(x.service) : !skip.has(x.service) && project.services[x.service]?.attach !== false));
  return attached(c, result, shown, { since, abort, exitCodeFrom: o.str('exit-code-from'), timeout, color: c.color && !o.bool('no-color'), prefix: !o.bool('no-log-prefix'), timestamps: o.bool('timestamps') });
}

/** Follows the containers' logs until they end; Ctrl-C (or the first exit with --abort-on-container-exit) stops the project. */
async function attached(
  c: ComposeCtx,
  all: UpContainer[],
  containers: UpContainer[],
  o: { since: string; abort: boolean; exitCodeFrom?: string; timeout?: number; color: boolean; prefix: boolean; timestamps: boolean },
): Promise<number> {
  const project = await c.project();
  const printer = new LogPrinter({ project: project.name, color: o.color, prefix: o.prefix, out: c.ctx.out, err: c.ctx.err });
  printer.add(containers.map((x) => x.name));
  c.ctx.out(`Attaching to ${containers.map((x) => shortName(project.name, x.name)).sort().join(', ')}\n`);
  let exitCode = 0;
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> =>
    (stopping ??= (async () => {
      const rt = c.runtime();
      const list = (await projectContainers(c.engine, project.name)).filter((x) => all.some((y) => y.id === x.id));
      await applyVerb(rt, project, list, 'stop', { timeout: o.timeout });
      rt.view.finish();
    })());
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts++;
    if (interrupts > 1) {
      // A second Ctrl-C kills instead of waiting for the stop timeout.
      for (const x of all) void c.engine.killContainer(x.id).catch(() => undefined);
      return;
    }
    c.ctx.err('Gracefully stopping... (press Ctrl+C again to force)\n');
    void stopAll();
  });
  await followAll(
    c.engine,
    printer,
    containers.map((x) => ({ id: x.id, name: x.name, query: { follow: 1, tail: 'all', timestamps: o.timestamps || undefined, since: o.since } })),
    {
      // A restart policy brings it back: compose follows it again, unless the project is stopping.
      again: async (t) => {
        const info = await c.engine.inspectContainer(t.id).catch(() => undefined);
        if (!info || stopping) return false;
        if (info.State.Status === 'restarting') await new Promise((r) => setTimeout(r, 200));
        return info.State.Running || info.State.Status === 'restarting';
      },
      done: async (t) => {
        const info = await c.engine.inspectContainer(t.id).catch(() => undefined);
        if (!info || info.State.Running) return;
        const code = info.State.ExitCode;
        printer.note(t.name, `exited with code ${code}`);
        const service = containers.find((x) => x.id === t.id)?.service;
        if (o.exitCodeFrom ? service === o.exitCodeFrom : o.abort && !stopping) exitCode = code;
        if (o.abort && !stopping) {
          c.ctx.err('Aborting on container exit...\n');
          void stopAll();
        }
      },
    },
  );
  if (stopping) await stopping;
  return interrupts ? 130 : exitCode;
}

export async function composeCreate(c: ComposeCtx, argv: string[]): Promise<number> {
  const o = parse(argv, flags(...CONVERGE_FLAGS, 'bool:yes,y'));
  const project = await c.project(o.args);
  const rt = c.runtime();
  try {
    await up(rt, project, { ...convergeOptions(o, servicesArg(project, o.args)), noStart: true });
  } finally {
    rt.view.finish();
  }
  return 0;
}

export async function composeDown(c: ComposeCtx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:volumes,v', 'string:rmi', 'bool:remove-orphans', 'string:timeout,t'));
  const rmi = o.str('rmi');
  if (rmi !== undefined && rmi !== 'local' && rmi !== 'all') throw new UsageError(`invalid --rmi option "${rmi}": use local or all`);
  if (o.args.length) throw new UsageError('"tug compose down" accepts no arguments');
  const project = await c.project();
  const rt = c.runtime();
  try {
    await down(rt, project, { volumes: o.bool('volumes'), rmi: rmi as 'local' | 'all' | undefined, removeOrphans: o.bool('remove-orphans'), timeout: o.int('timeout') });
  } finally {
    rt.view.finish();
  }
  return 0;
}
