// stop, restart, kill, pause, unpause, rm, wait, rename, update: one API call
// per named container; like docker, failures are reported per name and the
// command exits 1 if any failed.
import { flags, parse, requireArgs, UsageError } from '../args.js';
import { DaemonError } from '../client.js';
import type { Ctx } from '../context.js';
import { ramInBytes } from '../render/units.js';
import { parseCpus, parseRestart } from './container-config.js';

const enc = encodeURIComponent;

/** Runs fn per name; prints what fn returns, or the daemon's error. Exit 1 if any failed. */
async function eachContainer(ctx: Ctx, names: string[], fn: (name: string) => Promise<string | undefined>): Promise<number> {
  let failed = false;
  for (const name of names) {
    try {
      const line = await fn(name);
      if (line !== undefined) ctx.out(`${line}\n`);
    } catch (e) {
      failed = true;
      ctx.err(e instanceof DaemonError ? `Error response from daemon: ${e.message}\n` : `${(e as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

export async function stop(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('string:time,t', 'string:signal,s'));
  requireArgs(o, 'stop', 1);
  const t = o.int('time');
  return eachContainer(ctx, o.args, async (n) => {
    await ctx.client.call('POST', `/containers/${enc(n)}/stop`, { query: { t, signal: o.str('signal') } });
    return n;
  });
}

export async function restart(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('string:time,t', 'string:signal,s'));
  requireArgs(o, 'restart', 1);
  const t = o.int('time');
  return eachContainer(ctx, o.args, async (n) => {
    await ctx.client.call('POST', `/containers/${enc(n)}/restart`, { query: { t, signal: o.str('signal') } });
    return n;
  });
}

export async function kill(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('string:signal,s'));
  requireArgs(o, 'kill', 1);
  return eachContainer(ctx, o.args, async (n) => {
    await ctx.client.call('POST', `/containers/${enc(n)}/kill`, { query: { signal: o.str('signal') } });
    return n;
  });
}

export async function pause(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, []);
  requireArgs(o, 'pause', 1);
  return eachContainer(ctx, o.args, async (n) => {
    await ctx.client.call('POST', `/containers/${enc(n)}/pause`);
    return n;
  });
}

export async function unpause(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, []);
  requireArgs(o, 'unpause', 1);
  return eachContainer(ctx, o.args, async (n) => {
    await ctx.client.call('POST', `/containers/${enc(n)}/unpause`);
    return n;
  });
}

export async function rm(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:force,f', 'bool:volumes,v', 'bool:link,l'));
  requireArgs(o, 'rm', 1);
  return eachContainer(ctx, o.args, async (n) => {
    await ctx.client.call('DELETE', `/containers/${enc(n)}`, { query: { force: o.bool('force') || undefined, v: o.bool('volumes') || undefined } });
    return n;
  });
}

export async function wait(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, []);
  requireArgs(o, 'wait', 1);
  return eachContainer(ctx, o.args, async (n) => {
    const r = await ctx.client.json<{ StatusCode: number }>('POST', `/containers/${enc(n)}/wait`);
    return String(r.StatusCode);
  });
}

export async function rename(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, []);
  requireArgs(o, 'rename', 2, 2);
  const [from, to] = o.args as [string, string];
  if (!to.trim()) throw new UsageError('Error: neither old nor new names may be empty');
  await ctx.client.call('POST', `/containers/${enc(from)}/rename`, { query: { name: to } });
  return 0;
}

export async function update(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(
    argv,
    flags('string:memory,m', 'string:memory-swap', 'string:memory-reservation', 'string:cpus', 'string:cpu-shares,c', 'string:pids-limit', 'string:restart', 'string:cpuset-cpus'),
  );
  requireArgs(o, 'update', 1);
  const body: Record<string, unknown> = {};
  const mem = o.str('memory');
  if (mem !== undefined) body.Memory = ramInBytes(mem, 'memory');
  const swap = o.str('memory-swap');
  if (swap !== undefined) body.MemorySwap = swap === '-1' ? -1 : ramInBytes(swap, 'memory-swap');
  const res = o.str('memory-reservation');
  if (res !== undefined) body.MemoryReservation = ramInBytes(res, 'memory-reservation');
  if (o.str('cpus') !== undefined) body.NanoCpus = parseCpus(o.str('cpus')!);
  if (o.int('cpu-shares') !== undefined) body.CpuShares = o.int('cpu-shares');
  if (o.int('pids-limit') !== undefined) body.PidsLimit = o.int('pids-limit');
  if (o.str('cpuset-cpus') !== undefined) body.CpusetCpus = o.str('cpuset-cpus');
  if (o.str('restart') !== undefined) body.RestartPolicy = parseRestart(o.str('restart')!);
  if (!Object.keys(body).length) throw new UsageError('you must provide one or more flags when using this command');
  return eachContainer(ctx, o.args, async (n) => {
    const r = await ctx.client.json<{ Warnings?: string[] | null }>('POST', `/containers/${enc(n)}/update`, { body });
    for (const w of r?.Warnings ?? []) ctx.err(`WARNING: ${w}\n`);
    return n;
  });
}
