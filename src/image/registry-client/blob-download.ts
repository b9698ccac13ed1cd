// Blob GET into a partial file kept by digest: a download cut off (connection
// dropped, daemon stopped) resumes from where it stopped with a Range request;
// the whole file is verified against its digest before anyone uses it.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { createHash, type Hash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage } from 'node:http';
import { invalid, messageOf, TugError, unavailable } from '../../errdefs.js';
import { hexOf } from '../../oci/digest.js';
import type { RegistryClient } from './client.js';
import { discard, send } from './http-request.js';

export interface DownloadOptions {
  /** Directory holding partial downloads, one file per digest. */
  partialDir: string;
  /** Called as bytes arrive (current counts bytes already on disk from an earlier attempt). */
  onProgress?: (current: number, total: number) => void;
  /** Attempts in all for connection failures mid-body (default 5). */
  attempts?: number;
}

/** Downloads in flight by partial path: one writer per file within this process. */
const inflight = new Map<string, Promise<unknown>>();

async function exclusively<T>(key: string, fn: () => Promise<T>): Promise<T> {
  for (let prev = inflight.get(key); prev; prev = inflight.get(key)) await prev.catch(() => undefined);
  const p = fn();
  inflight.set(key, p);
  try {
    return await p;
  } finally {
    inflight.delete(key);
  }
}

export function partialPathOf(partialDir: string, digest: string): string {
  return join(partialDir, `${hexOf(digest)}.partial`);
}

/**
 * Downloads blob `digest` of `repo` to its partial file, resuming what is
 * already there, and returns the path of the complete, verified file. The
 * caller moves it into a blob store and removes it.
 */
export async function downloadBlob(client: RegistryClient, repo: string, digest: string, size: number, opts: DownloadOptions): Promise<string> {
  const path = partialPathOf(opts.partialDir, digest);
  await mkdir(dirname(path), { recursive: true });
  return exclusively(path, async () => {
    const attempts = opts.attempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        await fetchRest(client, repo, digest, size, path, opts);
        break;
      } catch (err) {
        // Server errors came through client.request's own retries; only a body cut off mid-way retries here.
        if ((err instanceof TugError && err.kind !== 'unavailable') || attempt >= attempts) throw err;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
    return path;
  });
}

async function fetchRest(client: RegistryClient, repo: string, digest: string, size: number, path: string, opts: DownloadOptions): Promise<void> {
  let have = await sizeOf(path);
  if (have > size && size > 0) {
    await rm(path, { force: true });
    have = 0;
  }
  // Hash what an earlier attempt left, so the digest covers the whole file.
  const hash = createHash('sha256');
  if (have > 0) await pipeline(createReadStream(path), hashInto(hash));
  if (have === size && size > 0) return finish(hash, digest, path);

  const headers: Record<string, string> = { Accept: '*/*' };
  if (have > 0) headers.Range = `bytes=${have}-`;
  const blobPath = `/v2/${repo}/blobs/${digest}`;
  let res = await client.request('GET', blobPath, {
    scopes: { [repo]: 'pull' },
    headers,
    accept: (s) => s < 400 || s === 416,
    what: `blob ${digest}`,
  });
  // Registries may send blobs from elsewhere (object storage): follow without our credentials.
  for (let hops = 0; res.statusCode && [301, 302, 303, 307, 308].includes(res.statusCode); hops++) {
    const loc = res.headers.location;
    discard(res);
    if (!loc || hops >= 5) throw unavailable(`blob ${digest}: bad redirect from the registry`);
    res = await send('GET', new URL(loc, client.url(blobPath)), { headers });
  }
  const append = have > 0 && res.statusCode === 206 && rangeStart(res) === have;
  if (res.statusCode === 416 || (have > 0 && !append && res.statusCode !== 200)) {
    // The registry cannot resume from here: start over.
    discard(res);
    await rm(path, { force: true });
    throw unavailable(`blob ${digest}: registry refused to resume at byte ${have}`);
  }
  if (res.statusCode !== 200 && res.statusCode !== 206) {
    discard(res);
    throw unavailable(`blob ${digest}: unexpected status ${res.statusCode}`);
  }
  // A full body instead of the range: what we had is overwritten.
  return streamTo(res, path, append ? hash : createHash('sha256'), append ? have : 0, size, digest, opts);
}

async function streamTo(res: IncomingMessage, path: string, hash: Hash, start: number, size: number, digest: string, opts: DownloadOptions): Promise<void> {
  let current = start;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      current += chunk.length;
      opts.onProgress?.(current, size);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(res, tap, createWriteStream(path, { flags: start > 0 ? 'a' : 'w', mode: 0o600 }));
  } catch (err) {
    throw unavailable(`blob ${digest}: download cut off at byte ${current} of ${size}: ${messageOf(err)}`);
  }
  if (!res.complete) throw unavailable(`blob ${digest}: download cut off at byte ${current} of ${size}`);
  return finish(hash, digest, path);
}

async function finish(hash: Hash, digest: string, path: string): Promise<void> {
  const got = 'sha256:' + hash.digest('hex');
  if (got !== digest) {
    await rm(path, { force: true });
    throw invalid(`filesystem layer verification failed for digest ${digest} (got ${got})`);
  }
}

function hashInto(hash: Hash): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb();
    },
  });
}

function rangeStart(res: IncomingMessage): number | undefined {
  const m = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
  return m ? Number(m[1]) : undefined;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
