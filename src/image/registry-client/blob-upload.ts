// Blob push: skip what the registry has (HEAD), try a cross-repository mount
// from repositories of the same registry the blob is known to be in, else
// upload: small blobs in one PUT (monolithic), big ones streamed in a PATCH
// then closed with PUT ?digest= (the chunked flow, as Docker does it).
import { Transform, type Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { messageOf, TugError, unavailable } from '../../errdefs.js';
import type { RegistryClient } from './client.js';
import { discard } from './http-request.js';

export interface BlobSource {
  digest: string;
  size: number;
  /** Opens the blob's bytes from the start (called once per attempt). */
  open(): Readable;
}

export interface PushBlobOptions {
  /** Other repositories on this registry that hold the blob: mount candidates. */
  mountFrom?: string[];
  onProgress?: (current: number, total: number) => void;
  attempts?: number;
}

export type PushBlobResult = 'exists' | 'mounted' | 'pushed';

const MONOLITHIC_MAX = 1024 * 1024;

export async function blobExists(client: RegistryClient, repo: string, digest: string): Promise<boolean> {
  const res = await client.request('HEAD', `/v2/${repo}/blobs/${digest}`, {
    scopes: { [repo]: 'pull,push' },
    accept: (s) => s < 400 || s === 404,
    what: `blob ${digest}`,
  });
  discard(res);
  return res.statusCode === 200;
}

export async function pushBlob(client: RegistryClient, repo: string, blob: BlobSource, opts: PushBlobOptions = {}): Promise<PushBlobResult> {
  if (await blobExists(client, repo, blob.digest)) return 'exists';
  let session: URL | undefined;
  for (const from of opts.mountFrom ?? []) {
    if (from === repo) continue;
    const res = await client.request('POST', `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}`, {
      scopes: { [repo]: 'pull,push', [from]: 'pull' },
      body: Buffer.alloc(0),
      what: `mount ${blob.digest} from ${from}`,
      // A refused mount (no access to `from`) is not an error: upload instead.
      accept: (s) => s === 201 || s === 202 || s === 401 || s === 403 || s === 404,
    });
    discard(res);
    if (res.statusCode === 201) return 'mounted';
    if (res.statusCode === 202) {
      session = locationOf(client, res);
      break;
    }
  }
  const attempts = opts.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    try {
      session ??= await startUpload(client, repo);
      await upload(client, repo, session, blob, opts);
      return 'pushed';
    } catch (err) {
      session = undefined; // a failed session may hold a partial body: start a fresh one
      const retryable = !(err instanceof TugError) || err.kind === 'unavailable';
      if (!retryable || attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }
}

async function startUpload(client: RegistryClient, repo: string): Promise<URL> {
  const res = await client.request('POST', `/v2/${repo}/blobs/uploads/`, {
    scopes: { [repo]: 'pull,push' },
    body: Buffer.alloc(0),
    what: `start upload to ${repo}`,
  });
  discard(res);
  return locationOf(client, res);
}

async function upload(client: RegistryClient, repo: string, session: URL, blob: BlobSource, opts: PushBlobOptions): Promise<void> {
  const scopes = { [repo]: 'pull,push' };
  const counted = (): Readable => {
    let current = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        current += chunk.length;
        opts.onProgress?.(current, blob.size);
        cb(null, chunk);
      },
    });
    const src = blob.open();
    src.on('error', (e) => tap.destroy(e));
    return src.pipe(tap);
  };
  let close = session;
  const streamHeaders = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(blob.size) };
  if (blob.size > MONOLITHIC_MAX) {
    const res = await send1(client, 'PATCH', session, { scopes, headers: streamHeaders, body: counted, what: `upload ${blob.digest}` });
    discard(res);
    close = locationOf(client, res, session);
  }
  close = new URL(close.href);
  close.searchParams.set('digest', blob.digest);
  const monolithic = blob.size <= MONOLITHIC_MAX;
  const res = await send1(client, 'PUT', close, {
    scopes,
    headers: monolithic ? streamHeaders : { 'Content-Length': '0' },
    body: monolithic ? counted : Buffer.alloc(0),
    what: `upload ${blob.digest}`,
  });
  discard(res);
  if (res.statusCode !== 201) throw unavailable(`upload ${blob.digest}: registry answered ${res.statusCode}, want 201`);
}

async function send1(client: RegistryClient, method: string, url: URL, opts: Parameters<RegistryClient['request']>[2]): Promise<IncomingMessage> {
  try {
    // One attempt: a retry of a half-sent body must start a fresh session (see pushBlob).
    return await client.request(method, url, { ...opts, attempts: 1 });
  } catch (err) {
    if (err instanceof TugError) throw err;
    throw unavailable(`${opts?.what ?? method}: ${messageOf(err)}`);
  }
}

function locationOf(client: RegistryClient, res: IncomingMessage, fallback?: URL): URL {
  const loc = res.headers.location;
  if (!loc) {
    if (fallback) return fallback;
    throw unavailable(`registry answered ${res.statusCode} without a Location for the upload`);
  }
  return new URL(loc, client.base);
}
