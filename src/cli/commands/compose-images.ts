// compose build / pull / push: each service's image through the engine's
// /build, /images/create and /images/{name}/push.
import { buildService, imageOf, pullService, pushService } from '../../compose/project/service-images.js';
import { flags, parse } from '../args.js';
import { servicesArg, type ComposeCtx } from './compose.js';

export async function composeBuild(c: ComposeCtx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:no-cache', 'bool:pull', 'bool:quiet,q', 'list:build-arg', 'bool:parallel', 'string:progress', 'bool:with-dependencies'));
  const project = await c.project();
  const names = servicesArg(project, o.args);
  const rt = c.runtime(o.bool('quiet'));
  const extraArgs: Record<string, string> = {};
  for (const a of o.list('build-arg')) {
    const eq = a.indexOf('=');
    if (eq > 0) extraArgs[a.slice(0, eq)] = a.slice(eq + 1);
    else if (process.env[a] !== undefined) extraArgs[a] = process.env[a]!;
  }
  try {
    for (const svc of Object.values(project.services)) {
      if (!svc.build || (names.length && !names.includes(svc.name))) continue;
      const withArgs = { ...svc, build: { ...svc.build, args: { ...svc.build.args, ...extraArgs } } };
      await buildService(rt.engine, project, withArgs, rt.progress, { noCache: o.bool('no-cache'), pull: o.bool('pull') });
    }
  } finally {
    rt.view.finish();
  }
  return 0;
}

export async function composePull(c: ComposeCtx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:quiet,q', 'bool:ignore-pull-failures', 'bool:include-deps', 'bool:ignore-buildable', 'string:policy'));
  const project = await c.project();
  const names = servicesArg(project, o.args);
  const rt = c.runtime(o.bool('quiet'));
  let failed = 0;
  try {
    for (const svc of Object.values(project.services)) {
      if (names.length && !names.includes(svc.name)) continue;
      // Services built here have nothing to pull unless they name an image.
      if (!svc.image) continue;
      try {
        await pullService(rt.engine, svc, imageOf(project, svc), rt.progress, rt.auth);
      } catch (e) {
        if (!o.bool('ignore-pull-failures') && !svc.build) throw e;
        failed++;
        rt.progress.warn((e as Error).message);
      }
    }
  } finally {
    rt.view.finish();
  }
  return failed && !o.bool('ignore-pull-failures') ? 1 : 0;
}

export async function composePush(c: ComposeCtx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:quiet,q', 'bool:ignore-push-failures', 'bool:include-deps'));
  const project = await c.project();
  const names = servicesArg(project, o.args);
  const rt = c.runtime(o.bool('quiet'));
  try {
    for (const svc of Object.values(project.services)) {
      if (names.length && !names.includes(svc.name)) continue;
      if (!svc.image) continue; // compose pushes only services that name their image
      try {
        await pushService(rt.engine, project, svc, rt.progress, rt.auth);
      } catch (e) {
        if (!o.bool('ignore-push-failures')) throw e;
        rt.progress.warn((e as Error).message);
      }
    }
  } finally {
    rt.view.finish();
  }
  return 0;
}
