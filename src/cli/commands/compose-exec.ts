// compose exec / run / cp: find the service's container (or make the
// one-off one) and hand over to tug's own exec, start --attach and cp, so
// the terminal handling is the one `tug exec` and `tug run` use.
import { createOneOff } from '../../compose/project/run-oneoff.js';
import { serviceContainers } from '../../compose/project/project-state.js';
import { flags, parse, requireArgs, UsageError } from '../args.js';
import { CliError } from '../context.js';
import { servicesArg, type ComposeCtx } from './compose.js';
import { exec } from './container-exec.js';
import { start } from './container-run.js';
import { cp } from './container-cp.js';
import { parseEnvList, parsePortSpec } from './container-config.js';

async function containerOf(c: ComposeCtx, service: string, index: number): Promise<string> {
  const project = await c.project();
  servicesArg(project, [service]);
  const list = await serviceContainers(c.engine, project, [service]);
  const x = list.find((y) => y.number === index && y.state === 'running');
  if (!x) throw new CliError(`service "${service}" is not running`, 1);
  return x.id;
}

export async function composeExec(c: ComposeCtx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:detach,d', 'bool:no-TTY,T', 'bool:interactive,i', 'bool:tty,t', 'list:env,e', 'string:user,u', 'string:workdir,w', 'string:index', 'bool:privileged'), { interspersed: false });
  requireArgs(o, 'compose exec', 2);
  const [service, ...cmd] = o.args as [string, ...string[]];
  const id = await containerOf(c, service, o.int('index') ?? 1);
  const tty = !o.bool('no-TTY') && Boolean(process.stdin.isTTY) && !o.bool('detach');
  const args = [
    ...(o.bool('detach') ? ['-d'] : ['-i']),
    ...(tty ? ['-t'] : []),
    ...o.list('env').flatMap((e) => ['-e', e]),
    ...(o.str('user') !== undefined ? ['-u', o.str('user')!] : []),
    ...(o.str('workdir') !== undefined ? ['-w', o.str('workdir')!] : []),
    ...(o.bool('privileged') ? ['--privileged'] : []),
    id,
    ...cmd,
  ];
  return exec(c.ctx, args);
}

export async function composeRun(c: ComposeCtx, argv: string[]): Promise<number> {
  const o = parse(
    argv,
    flags(
      'bool:detach,d', 'bool:rm', 'list:env,e', 'bool:service-ports', 'list:publish,p', 'string:name', 'string:entrypoint', 'string:user,u', 'string:workdir,w',
      'bool:no-TTY,T', 'bool:interactive,i', 'bool:tty,t', 'bool:no-deps', 'list:volume,v', 'list:label,l', 'bool:build', 'bool:use-aliases', 'bool:quiet-pull', 'bool:remove-orphans',
    ),
    { interspersed: false },
  );
  requireArgs(o, 'compose run', 1);
  const [service, ...command] = o.args as [string, ...string[]];
  const project = await c.project([o.args[0]!]);
  servicesArg(project, [service]);
  const detach = o.bool('detach');
  const tty = !o.bool('no-TTY') && !detach && Boolean(process.stdin.isTTY);
  const publish: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const spec of o.list('publish')) {
    for (const p of parsePortSpec(spec)) (publish[p.port] ??= []).push({ HostIp: p.hostIp, HostPort: p.hostPort });
  }
  const labels: Record<string, string> = {};
  for (const l of o.list('label')) {
    const eq = l.indexOf('=');
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  const entry = o.str('entrypoint');
  const rt = c.runtime();
  let made: { id: string; name: string };
  try {
    made = await createOneOff(rt, project, {
      service,
      command,
      entrypoint: entry === undefined ? undefined : entry === '' ? [''] : [entry],
      env: parseEnvList(o.list('env')),
      labels,
      name: o.str('name'),
      user: o.str('user'),
      workdir: o.str('workdir'),
      publish,
      servicePorts: o.bool('service-ports'),
      volumes: o.list('volume'),
      tty,
      interactive: !detach,
      noDeps: o.bool('no-deps'),
      build: o.bool('build'),
    });
  } finally {
    rt.view.finish();
  }
  if (detach) {
    await c.engine.startContainer(made.id);
    c.ctx.out(`${made.name}\n`);
    return 0;
  }
  try {
    return await start(c.ctx, ['--attach', '--interactive', made.id]);
  } finally {
    // --rm takes the container's anonymous volumes with it, as compose does.
    if (o.bool('rm')) await c.engine.removeContainer(made.id, { force: true, volumes: true }).catch(() => undefined);
  }
}

export async function composeCp(c: ComposeCtx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:archive,a', 'bool:follow-link,L', 'string:index', 'bool:all'));
  requireArgs(o, 'compose cp', 2, 2);
  const index = o.int('index') ?? 1;
  const map = async (arg: string): Promise<string> => {
    const m = /^([a-zA-Z0-9][a-zA-Z0-9_.-]*):(.*)$/.exec(arg);
    if (!m) return arg;
    return `${await containerOf(c, m[1]!, index)}:${m[2]}`;
  };
  const [src, dst] = await Promise.all(o.args.map(map));
  if (!src!.includes(':') && !dst!.includes(':')) throw new UsageError('one of source or destination must be a service path: SERVICE:PATH');
  return cp(c.ctx, [...(o.bool('archive') ? ['-a'] : []), ...(o.bool('follow-link') ? ['-L'] : []), src!, dst!]);
}
