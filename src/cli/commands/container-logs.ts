// logs: the container's output with stdout and stderr kept apart (the stream
// is multiplexed unless the container has a TTY).
import { flags, parse, requireArgs } from '../args.js';
import type { Ctx } from '../context.js';
import { pumpOutput } from '../stdio.js';
import { apiTimestamp } from '../render/units.js';

export async function logs(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:follow,f', 'bool:timestamps,t', 'bool:details', 'string:tail,n', 'string:since', 'string:until'));
  requireArgs(o, 'logs', 1, 1);
  const name = encodeURIComponent(o.args[0]!);
  const info = await ctx.client.json('GET', `/containers/${name}/json`);
  const res = await ctx.client.response('GET', `/containers/${name}/logs`, {
    query: {
      stdout: 1,
      stderr: 1,
      follow: o.bool('follow') || undefined,
      timestamps: o.bool('timestamps') || undefined,
      details: o.bool('details') || undefined,
      tail: o.str('tail') ?? 'all',
      since: o.str('since') !== undefined ? apiTimestamp(o.str('since')!) : undefined,
      until: o.str('until') !== undefined ? apiTimestamp(o.str('until')!) : undefined,
    },
  });
  await pumpOutput(res, Boolean(info.Config?.Tty));
  return 0;
}
