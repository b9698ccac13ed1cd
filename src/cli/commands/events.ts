// events: the daemon's event stream, rendered like docker events.
import { flags, parse } from '../args.js';
import { eachJsonLine } from '../client.js';
import type { Ctx } from '../context.js';
import { compileTemplate } from '../render/template.js';
import { apiTimestamp, rfc3339NanoFixed } from '../render/units.js';
import { filtersParam } from './filters.js';

/** "2026-11-21T14:30:16.123456789Z container start 3f2a… (image=busybox, name=x)" */
export function eventLine(ev: any): string {
  const nanos = ev.timeNano !== undefined ? BigInt(ev.timeNano) : BigInt(ev.time ?? 0) * 1_000_000_000n;
  const attrs = (ev.Actor?.Attributes ?? {}) as Record<string, string>;
  const keys = Object.keys(attrs).sort();
  const tail = keys.length ? ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})` : '';
  return `${rfc3339NanoFixed(nanos)} ${ev.Type} ${ev.Action} ${ev.Actor?.ID ?? ev.id ?? ''}${tail}`;
}

export async function events(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('string:since', 'string:until', 'list:filter,f', 'string:format'));
  const res = await ctx.client.response('GET', '/events', {
    query: {
      since: o.str('since') !== undefined ? apiTimestamp(o.str('since')!) : undefined,
      until: o.str('until') !== undefined ? apiTimestamp(o.str('until')!) : undefined,
      filters: filtersParam(o.list('filter')),
    },
  });
  const f = o.str('format');
  const tpl = f ? compileTemplate(f === 'json' ? '{{json .}}' : f) : undefined;
  await eachJsonLine(res, (ev) => ctx.out(`${tpl ? tpl.execute(ev) : eventLine(ev)}\n`));
  return 0;
}
