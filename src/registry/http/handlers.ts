// The endpoint handlers: parse the request, call one store operation, render.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Registry } from '../registry.js';
import { regError } from '../errors.js';
import { checkDigest, checkName } from '../names.js';
import { MAX_MANIFEST_BYTES, OCI_INDEX } from '../manifest-format.js';
import { listRepoDirs } from '../storage/uploads.js';
import { paginate, readSmallBody, send, sendJson } from './respond.js';
import { sendFileRange } from './send-file.js';

export interface Ctx {
  reg: Registry;
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  /** May the caller pull from another repository (cross-repo mount source)? */
  canPull(repo: string): Promise<boolean>;
}

const uploadLocation = (name: string, uuid: string) => `/v2/${name}/blobs/uploads/${uuid}`;
const rangeHeader = (offset: number) => `0-${offset > 0 ? offset - 1 : 0}`;

function uploadAccepted(ctx: Ctx, name: string, uuid: string, offset: number, status = 202): void {
  send(ctx.res, status, { Location: uploadLocation(name, uuid), Range: rangeHeader(offset), 'Docker-Upload-UUID': uuid });
}

function blobCreated(ctx: Ctx, name: string, digest: string): void {
  send(ctx.res, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
}

/** Content-Range of a chunk ("start-end", "bytes start-end"); undefined when absent. */
function chunkStart(req: IncomingMessage): number | undefined {
  const h = req.headers['content-range'];
  if (h === undefined) return undefined;
  const m = /^(?:bytes )?(\d+)-(\d+)$/.exec(h.trim());
  if (!m || Number(m[2]) < Number(m[1])) throw regError('BLOB_UPLOAD_INVALID', `invalid Content-Range "${h.slice(0, 80)}"`, undefined, 416);
  return Number(m[1]);
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? '0') > 0;
}

export async function startUpload(ctx: Ctx, name: string): Promise<void> {
  const { reg, query, req } = ctx;
  const mount = query.get('mount');
  const from = query.get('from');
  if (mount !== null) {
    const digest = checkDigest(mount);
    if (from !== null) {
      const source = checkName(from);
      if ((await reg.blobs.statInRepo(source, digest)) !== undefined && (await ctx.canPull(source))) {
        await reg.blobs.link(name, digest);
        return blobCreated(ctx, name, digest);
      }
    }
    // Not mountable: fall back to a fresh upload session, as the spec says.
  }
  const digestParam = query.get('digest');
  const uuid = await reg.uploads.create(name);
  if (digestParam !== null && mount === null) {
    const digest = checkDigest(digestParam);
    try {
      await reg.uploads.finish(name, uuid, digest, req);
    } catch (err) {
      await reg.uploads.cancel(name, uuid).catch(() => undefined); // a one-shot push leaves no session behind
      throw err;
    }
    return blobCreated(ctx, name, digest);
  }
  uploadAccepted(ctx, name, uuid, 0);
}

export async function patchUpload(ctx: Ctx, name: string, uuid: string): Promise<void> {
  const offset = await ctx.reg.uploads.append(name, uuid, ctx.req, chunkStart(ctx.req));
  uploadAccepted(ctx, name, uuid, offset);
}

export async function uploadStatus(ctx: Ctx, name: string, uuid: string): Promise<void> {
  const offset = await ctx.reg.uploads.offset(name, uuid);
  uploadAccepted(ctx, name, uuid, offset, 204);
}

export async function finishUpload(ctx: Ctx, name: string, uuid: string): Promise<void> {
  const d = ctx.query.get('digest');
  if (d === null) throw regError('DIGEST_INVALID', 'the final PUT of an upload needs ?digest=');
  const digest = checkDigest(d);
  const body = hasBody(ctx.req) ? ctx.req : undefined;
  await ctx.reg.uploads.finish(name, uuid, digest, body, body ? chunkStart(ctx.req) : undefined);
  blobCreated(ctx, name, digest);
}

export async function cancelUpload(ctx: Ctx, name: string, uuid: string): Promise<void> {
  await ctx.reg.uploads.cancel(name, uuid);
  send(ctx.res, 204);
}

/** "bytes=a-b" | "bytes=a-" | "bytes=-n" → inclusive range; 'bad' when unsatisfiable. */
function parseRange(h: string | undefined, size: number): { start: number; end: number } | 'bad' | undefined {
  if (!h) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'bad';
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'bad';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'bad';
  return { start, end };
}

export async function getBlob(ctx: Ctx, name: string, ref: string): Promise<void> {
  const digest = checkDigest(ref);
  const size = await ctx.reg.blobs.statInRepo(name, digest);
  if (size === undefined) throw regError('BLOB_UNKNOWN', `blob ${digest} unknown to repository ${name}`, { digest });
  const base = {
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    ETag: `"${digest}"`,
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'max-age=31536000',
  };
  const range = parseRange(ctx.req.headers.range, size);
  if (range === 'bad') {
    return send(ctx.res, 416, { 'Content-Range': `bytes */${size}`, 'Docker-Content-Digest': digest });
  }
  const { res } = ctx;
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  res.statusCode = range ? 206 : 200;
  for (const [k, v] of Object.entries(base)) res.setHeader(k, v);
  res.setHeader('Content-Length', size === 0 ? 0 : end - start + 1);
  if (range) res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
  if (ctx.req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  await sendFileRange(res, ctx.reg.layout.blob(digest), start, end);
}

export async function deleteBlob(ctx: Ctx, name: string, ref: string): Promise<void> {
  const digest = checkDigest(ref);
  if (!(await ctx.reg.blobs.unlink(name, digest))) throw regError('BLOB_UNKNOWN', `blob ${digest} unknown to repository ${name}`);
  send(ctx.res, 202, { 'Docker-Content-Digest': digest });
}

export async function putManifest(ctx: Ctx, name: string, ref: string): Promise<void> {
  const body = await readSmallBody(ctx.req, MAX_MANIFEST_BYTES, () =>
    regError('MANIFEST_INVALID', `manifest is larger than the ${MAX_MANIFEST_BYTES} byte limit`, undefined, 413),
  );
  const rev = await ctx.reg.manifests.put(name, ref, body, ctx.req.headers['content-type'] ?? '');
  const headers: Record<string, string> = { Location: `/v2/${name}/manifests/${rev.digest}`, 'Docker-Content-Digest': rev.digest };
  if (rev.subject) headers['OCI-Subject'] = rev.subject;
  send(ctx.res, 201, headers);
}

export async function getManifest(ctx: Ctx, name: string, ref: string): Promise<void> {
  // Content negotiation: we return what was stored whatever the Accept header
  // says, as Distribution does for schema2/OCI (clients check Content-Type).
  const m = await ctx.reg.manifests.get(name, ref);
  const modified = await ctx.reg.manifests.modified(name, ref);
  send(ctx.res, 200, { 'Content-Type': m.mediaType, 'Docker-Content-Digest': m.digest, ETag: `"${m.digest}"`, ...(modified ? { 'Last-Modified': modified.toUTCString() } : {}) }, m.body);
}

export async function deleteManifest(ctx: Ctx, name: string, ref: string): Promise<void> {
  await ctx.reg.manifests.delete(name, ref);
  send(ctx.res, 202);
}

export async function listTags(ctx: Ctx, name: string): Promise<void> {
  if (!(await ctx.reg.manifests.repoExists(name))) throw regError('NAME_UNKNOWN', `repository ${name} unknown`);
  const { page, link } = paginate(await ctx.reg.manifests.tags(name), ctx.query, `/v2/${name}/tags/list`);
  sendJson(ctx.res, 200, { name, tags: page }, link ? { Link: link } : {});
}

export async function catalog(ctx: Ctx): Promise<void> {
  // A directory holding only an in-flight upload is not a repository yet.
  const repos: string[] = [];
  for (const r of await listRepoDirs(ctx.reg.layout)) if (await ctx.reg.manifests.repoExists(r)) repos.push(r);
  const { page, link } = paginate(repos, ctx.query, '/v2/_catalog');
  sendJson(ctx.res, 200, { repositories: page }, link ? { Link: link } : {});
}

export async function referrers(ctx: Ctx, name: string, ref: string): Promise<void> {
  const digest = checkDigest(ref);
  const artifactType = ctx.query.get('artifactType') ?? undefined;
  const manifests = await ctx.reg.manifests.referrers(name, digest, artifactType);
  const headers: Record<string, string> = artifactType !== undefined ? { 'OCI-Filters-Applied': 'artifactType' } : {};
  sendJson(ctx.res, 200, { schemaVersion: 2, mediaType: OCI_INDEX, manifests }, headers, OCI_INDEX);
}
