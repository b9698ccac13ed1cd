// images, rmi, tag, history, import, save, load.
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { flags, parse, requireArgs } from '../args.js';
import { DaemonError, eachJsonLine } from '../client.js';
import { CliError, type Ctx } from '../context.js';
import { renderRows } from '../render/rows.js';
import { ago, ellipsis, goTimeString, humanSize } from '../render/units.js';
import { shortId } from './container-ps.js';
import { filtersParam } from './filters.js';

const enc = encodeURIComponent;

/** "reg:5000/a/b:tag" → ["reg:5000/a/b", "tag"]; no tag → [ref, '']. */
export function splitRepoTag(ref: string): [string, string] {
  const at = ref.indexOf('@');
  if (at >= 0) return [ref.slice(0, at), ''];
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, ''];
}

const IMAGES_DEFAULT = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
const IMAGES_HEADERS = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
  VirtualSize: 'VIRTUAL SIZE',
  Containers: 'CONTAINERS',
};

export function imageRows(list: any[], trunc: boolean, digests: boolean): Record<string, string>[] {
  const rows: Record<string, string>[] = [];
  for (const img of list) {
    const tags: string[] = (img.RepoTags ?? []).filter((t: string) => t !== '<none>:<none>');
    const repoDigests: string[] = (img.RepoDigests ?? []).filter((d: string) => d !== '<none>@<none>');
    const base = {
      ID: trunc ? shortId(img.Id) : img.Id,
      CreatedSince: ago(img.Created),
      CreatedAt: goTimeString(img.Created),
      Size: humanSize(img.Size ?? 0, 3),
      SharedSize: img.SharedSize >= 0 ? humanSize(img.SharedSize, 3) : 'N/A',
      UniqueSize: img.SharedSize >= 0 ? humanSize((img.Size ?? 0) - img.SharedSize, 3) : 'N/A',
      VirtualSize: humanSize(img.VirtualSize ?? img.Size ?? 0, 3),
      Containers: img.Containers >= 0 ? String(img.Containers) : 'N/A',
    };
    const digestOf = (repo: string): string => {
      const d = repoDigests.find((x) => x.startsWith(`${repo}@`));
      return d ? d.slice(d.indexOf('@') + 1) : '<none>';
    };
    if (!tags.length) {
      const repo = repoDigests.length ? repoDigests[0]!.slice(0, repoDigests[0]!.indexOf('@')) : '<none>';
      rows.push({ ...base, Repository: repo, Tag: '<none>', Digest: digests && repo !== '<none>' ? digestOf(repo) : '<none>' });
      continue;
    }
    for (const t of tags) {
      const [repo, tag] = splitRepoTag(t);
      rows.push({ ...base, Repository: repo, Tag: tag || '<none>', Digest: digestOf(repo) });
    }
  }
  return rows;
}

export async function images(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:all,a', 'bool:quiet,q', 'bool:no-trunc', 'bool:digests', 'list:filter,f', 'string:format'));
  requireArgs(o, 'images', 0, 1);
  const filterList = [...o.list('filter'), ...(o.args[0] ? [`reference=${o.args[0]}`] : [])];
  const list = await ctx.client.json<any[]>('GET', '/images/json', {
    query: { all: o.bool('all') || undefined, filters: filtersParam(filterList), digests: o.bool('digests') || undefined },
  });
  list.sort((a, b) => b.Created - a.Created);
  const rows = imageRows(list, !o.bool('no-trunc'), o.bool('digests'));
  if (o.bool('quiet')) {
    const seen = new Set<string>();
    for (const r of rows) {
      if (seen.has(r.ID!)) continue;
      seen.add(r.ID!);
      ctx.out(`${r.ID}\n`);
    }
    return 0;
  }
  const format = o.str('format') ?? (o.bool('digests') ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}' : undefined);
  ctx.out(renderRows(format, IMAGES_DEFAULT, IMAGES_HEADERS, rows));
  return 0;
}

export async function rmi(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:force,f', 'bool:no-prune'));
  requireArgs(o, 'rmi', 1);
  let failed = false;
  for (const name of o.args) {
    try {
      const res = await ctx.client.json<Array<{ Untagged?: string; Deleted?: string }>>('DELETE', `/images/${enc(name)}`, {
        query: { force: o.bool('force') || undefined, noprune: o.bool('no-prune') || undefined },
      });
      for (const r of res ?? []) {
        if (r.Untagged) ctx.out(`Untagged: ${r.Untagged}\n`);
        if (r.Deleted) ctx.out(`Deleted: ${r.Deleted}\n`);
      }
    } catch (e) {
      failed = true;
      ctx.err(e instanceof DaemonError ? `Error response from daemon: ${e.message}\n` : `${(e as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

export async function tag(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, []);
  requireArgs(o, 'tag', 2, 2);
  const [repo, t] = splitRepoTag(o.args[1]!);
  await ctx.client.call('POST', `/images/${enc(o.args[0]!)}/tag`, { query: { repo, tag: t || 'latest' } });
  return 0;
}

const HISTORY_DEFAULT = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
const HISTORY_HEADERS = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };

export async function history(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:quiet,q', 'bool:no-trunc', 'bool:human,H', 'string:format'));
  requireArgs(o, 'history', 1, 1);
  const trunc = !o.bool('no-trunc');
  const human = !o.has('human') || o.bool('human');
  const list = await ctx.client.json<any[]>('GET', `/images/${enc(o.args[0]!)}/history`);
  const rows = list.map((h) => {
    const createdBy = String(h.CreatedBy ?? '').replace(/\t/g, ' ');
    return {
      ID: h.Id === '<missing>' ? '<missing>' : trunc ? shortId(h.Id) : h.Id,
      CreatedSince: human ? ago(h.Created) : goTimeString(h.Created),
      CreatedAt: goTimeString(h.Created),
      CreatedBy: trunc ? ellipsis(createdBy, 45) : createdBy,
      Size: human ? humanSize(h.Size ?? 0, 3) : String(h.Size ?? 0),
      Comment: String(h.Comment ?? ''),
    };
  });
  ctx.out(renderRows(o.bool('quiet') ? '{{.ID}}' : o.str('format'), HISTORY_DEFAULT, HISTORY_HEADERS, rows));
  return 0;
}

/** Prints a JSON progress stream (import, load) and fails on its first error message. */
async function printProgress(ctx: Ctx, res: Readable): Promise<void> {
  let error: string | undefined;
  await eachJsonLine(res, (m) => {
    if (m.error || m.errorDetail) error ??= m.errorDetail?.message ?? m.error;
    else if (typeof m.stream === 'string') ctx.out(m.stream);
    else if (m.status) ctx.out(`${m.id ? `${m.id}: ` : ''}${m.status}${m.progress ? ` ${m.progress}` : ''}\n`);
  });
  if (error) throw new CliError(error, 1);
}

export async function importImage(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('list:change,c', 'string:message,m', 'string:platform'));
  requireArgs(o, 'import', 1, 2);
  const [file, ref] = o.args as [string, string | undefined];
  const body = file === '-' ? process.stdin : createReadStream(file);
  const opened = new Promise<void>((res, rej) => {
    if (file === '-') res();
    else (body as ReturnType<typeof createReadStream>).once('open', () => res()).once('error', (e) => rej(new CliError(`open ${file}: ${e.message}`, 1)));
  });
  await opened;
  const res = await ctx.client.response('POST', '/images/create', {
    query: { fromSrc: '-', repo: ref, message: o.str('message'), changes: o.list('change'), platform: o.str('platform') },
    body,
    headers: { 'Content-Type': 'application/x-tar' },
  });
  await printProgress(ctx, res);
  return 0;
}

export async function save(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('string:output,o'));
  requireArgs(o, 'save', 1);
  const out = o.str('output');
  if (!out && process.stdout.isTTY) throw new CliError('Cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
  const res = await ctx.client.response('GET', '/images/get', { query: { names: o.args } });
  await pipeline(res, out ? createWriteStream(out) : process.stdout);
  return 0;
}

export async function load(ctx: Ctx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('string:input,i', 'bool:quiet,q'));
  requireArgs(o, 'load', 0, 0);
  const input = o.str('input');
  if (!input && process.stdin.isTTY) throw new CliError('requested load from stdin, but stdin is empty', 1);
  const body = input ? createReadStream(input) : process.stdin;
  const res = await ctx.client.response('POST', '/images/load', {
    query: { quiet: o.bool('quiet') || !process.stdout.isTTY ? 1 : undefined },
    body,
    headers: { 'Content-Type': 'application/x-tar' },
  });
  await printProgress(ctx, res);
  return 0;
}
