// inspect: containers, images, volumes and networks as indented JSON or through -f templates.
import { flags, parse, requireArgs, UsageError } from '../args.js';
import { ApiClient, DaemonError } from '../client.js';
import type { Ctx } from '../context.js';
import { compileTemplate } from '../render/template.js';

type Kind = 'container' | 'image' | 'volume' | 'network';

const enc = encodeURIComponent;

async function fetchObject(c: ApiClient, kind: Kind, name: string, size: boolean): Promise<unknown> {
  if (kind === 'container') return c.json('GET', `/containers/${enc(name)}/json`, { query: { size: size || undefined } });
  if (kind === 'image') return c.json('GET', `/images/${enc(name)}/json`);
  if (kind === 'network') return c.json('GET', `/networks/${enc(name)}`);
  return c.json('GET', `/volumes/${enc(name)}`);
}

/** Go's json.MarshalIndent with 4 spaces and its HTML-safe escaping. */
export function indentJson(v: unknown): string {
  return JSON.stringify(v, null, 4).replace(/[<>&]/g, (ch) => `\\u00${ch.charCodeAt(0).toString(16)}`);
}

async function inspectAs(ctx: Ctx, argv: string[], fixed?: Kind): Promise<number> {
  const o = parse(argv, flags('string:format,f', 'string:type', 'bool:size,s'));
  requireArgs(o, fixed ? `${fixed} inspect` : 'inspect', 1);
  const type = fixed ?? (o.str('type') as Kind | undefined);
  if (type && !['container', 'image', 'volume', 'network'].includes(type)) throw new UsageError(`"${type}" is not a valid value for --type`);
  const kinds: Kind[] = type ? [type] : ['container', 'image', 'volume', 'network'];
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const name of o.args) {
    let obj: unknown;
    for (const k of kinds) {
      try {
        obj = await fetchObject(ctx.client, k, name, o.bool('size'));
        break;
      } catch (e) {
        if (!(e instanceof DaemonError && e.status === 404)) throw e;
      }
    }
    if (obj === undefined) errors.push(type ? `Error: No such ${type}: ${name}` : `Error: No such object: ${name}`);
    else found.push(obj);
  }
  const format = o.str('format');
  if (format) {
    const tpl = compileTemplate(format === 'json' ? '{{json .}}' : format);
    for (const obj of found) ctx.out(`${tpl.execute(obj)}\n`);
  } else ctx.out(`${indentJson(found)}\n`);
  for (const e of errors) ctx.err(`${e}\n`);
  return errors.length ? 1 : 0;
}

export const inspect = (ctx: Ctx, argv: string[]): Promise<number> => inspectAs(ctx, argv);
export const inspectContainer = (ctx: Ctx, argv: string[]): Promise<number> => inspectAs(ctx, argv, 'container');
export const inspectImage = (ctx: Ctx, argv: string[]): Promise<number> => inspectAs(ctx, argv, 'image');
export const inspectVolume = (ctx: Ctx, argv: string[]): Promise<number> => inspectAs(ctx, argv, 'volume');
export const inspectNetwork = (ctx: Ctx, argv: string[]): Promise<number> => inspectAs(ctx, argv, 'network');
