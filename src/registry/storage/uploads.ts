// Blob upload sessions. Each session is a directory under the repository's
// _uploads with the bytes received so far ("data") and a small state file
// ("state.json"), so a client holding the upload URL can resume — GET status,
// then PATCH the rest — even after the server restarts. Bytes are hashed as they
// are written and pushed to disk as they arrive (body-writer.ts), and a request
// is answered only once its bytes are on disk; only on the final PUT, after
// fsync and a digest match, is the file renamed into the content store.
import { createReadStream } from 'node:fs';
import { mkdir, open, rm, stat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { writeJsonAtomic } from '../../util/atomic-file.js';
import { regError } from '../errors.js';
import { Layout } from './layout.js';
import { BlobStore } from './blobs.js';
import { isNotFound, listDir } from './fs-helpers.js';
import { appendBody, AppendIoError, type AppendResult } from './body-writer.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface UploadState {
  repo: string;
  uuid: string;
  startedAt: string;
}

/** The running hash of an upload, valid only while `offset` equals the file size. */
interface LiveHash {
  hash: Hash;
  offset: number;
  /** This process datasynced the file after writing its last byte (so the commit needs no fsync of it). */
  synced: boolean;
}

export class UploadStore {
  private readonly live = new Map<string, LiveHash>();
  private readonly busy = new Set<string>();

  constructor(
    readonly layout: Layout,
    readonly blobs: BlobStore,
  ) {}

  async create(repo: string): Promise<string> {
    const uuid = randomUUID();
    const dir = this.layout.upload(repo, uuid);
    await mkdir(dir, { recursive: true });
    await (await open(join(dir, 'data'), 'w', 0o644)).close();
    const state: UploadState = { repo, uuid, startedAt: new Date().toISOString() };
    await writeJsonAtomic(join(dir, 'state.json'), state);
    this.live.set(uuid, { hash: createHash('sha256'), offset: 0, synced: false });
    return uuid;
  }

  /** Bytes received so far; BLOB_UPLOAD_UNKNOWN if there is no such session in this repo. */
  async offset(repo: string, uuid: string): Promise<number> {
    const dir = this.dirOf(repo, uuid);
    try {
      await stat(join(dir, 'state.json'));
      return (await stat(join(dir, 'data'))).size;
    } catch (err) {
      if (isNotFound(err)) throw regError('BLOB_UPLOAD_UNKNOWN', `upload ${uuid} unknown in repository ${repo}`);
      throw err;
    }
  }

  /**
   * Append a request body. `start`, from Content-Range, must equal the current
   * offset (out-of-order chunks are refused with 416, per spec).
   */
  async append(repo: string, uuid: string, body: Readable, start?: number): Promise<number> {
    return this.exclusive(uuid, async () => {
      const offset = await this.offset(repo, uuid);
      if (start !== undefined && start !== offset) {
        throw regError('BLOB_UPLOAD_INVALID', `chunk starts at ${start} but the upload has ${offset} bytes`, { offset }, 416);
      }
      return this.write(repo, uuid, body, offset);
    });
  }

  /** Optional last chunk, then verify the digest and commit the blob into the store and repo. */
  async finish(repo: string, uuid: string, digest: string, body?: Readable, start?: number): Promise<number> {
    return this.exclusive(uuid, async () => {
      let offset = await this.offset(repo, uuid);
      if (start !== undefined && start !== offset) {
        throw regError('BLOB_UPLOAD_INVALID', `chunk starts at ${start} but the upload has ${offset} bytes`, { offset }, 416);
      }
      if (body) offset = await this.write(repo, uuid, body, offset);
      const live = await this.liveHash(repo, uuid, offset);
      const got = 'sha256:' + live.hash.copy().digest('hex');
      if (got !== digest) {
        throw regError('DIGEST_INVALID', `uploaded content has digest ${got}, not ${digest}`);
      }
      const dir = this.dirOf(repo, uuid);
      const data = join(dir, 'data');
      if (!live.synced) {
        // Written before a restart (or never): its pages may still be only in the page cache.
        const fh = await open(data, 'r+');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
      }
      await this.blobs.commitFile(data, digest);
      await this.blobs.link(repo, digest);
      this.live.delete(uuid);
      await rm(dir, { recursive: true, force: true });
      return offset;
    });
  }

  async cancel(repo: string, uuid: string): Promise<void> {
    await this.offset(repo, uuid);
    this.live.delete(uuid);
    await rm(this.dirOf(repo, uuid), { recursive: true, force: true });
  }

  /** Remove sessions started before now - ttlMs across all repositories; returns how many. */
  async purgeStale(ttlMs: number, now = Date.now()): Promise<number> {
    let removed = 0;
    for (const repo of await listRepoDirs(this.layout)) {
      const dir = this.layout.uploadsDir(repo);
      for (const uuid of await listDir(dir)) {
        if (this.busy.has(uuid)) continue;
        let started: number;
        try {
          const st = JSON.parse(await readFile(join(dir, uuid, 'state.json'), 'utf8')) as UploadState;
          started = Date.parse(st.startedAt);
        } catch {
          started = 0; // no readable state: a session torn by a crash during create
        }
        if (!(now - started > ttlMs)) continue;
        this.live.delete(uuid);
        await rm(join(dir, uuid), { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }

  private dirOf(repo: string, uuid: string): string {
    if (!UUID_RE.test(uuid)) throw regError('BLOB_UPLOAD_UNKNOWN', `upload ${uuid.slice(0, 80)} unknown`);
    return this.layout.upload(repo, uuid);
  }

  private async write(repo: string, uuid: string, body: Readable, offset: number): Promise<number> {
    const live = await this.liveHash(repo, uuid, offset);
    const dir = this.dirOf(repo, uuid);
    const fh = await open(join(dir, 'data'), 'r+');
    let res: AppendResult;
    try {
      res = await appendBody(fh, offset, body, live.hash);
    } catch (err) {
      this.live.delete(uuid);
      // Writeback failed: the kernel may have dropped those pages, so what the file
      // holds is unknown. End the session; the client starts the blob again.
      // (A failed write only leaves the hash behind the file: rebuilt from disk next time.)
      if (err instanceof AppendIoError && err.writeback) await rm(dir, { recursive: true, force: true });
      throw err instanceof AppendIoError ? err.cause : err;
    } finally {
      await fh.close();
    }
    // Every byte the body delivered is in the file and the hash, even when it was cut off.
    live.offset = offset + res.written;
    live.synced = true;
    if (res.cutOff) throw res.cutOff;
    return live.offset;
  }

  /** The running hash for the bytes on disk, rebuilt by reading the file after a restart or a cut-off. */
  private async liveHash(repo: string, uuid: string, offset: number): Promise<LiveHash> {
    const cur = this.live.get(uuid);
    if (cur && cur.offset === offset) return cur;
    const hash = createHash('sha256');
    await pipeline(createReadStream(join(this.dirOf(repo, uuid), 'data'), { highWaterMark: 1 << 20 }), async (src: AsyncIterable<Buffer>) => {
      for await (const chunk of src) hash.update(chunk);
    });
    const fresh = { hash, offset, synced: false };
    this.live.set(uuid, fresh);
    return fresh;
  }

  private async exclusive<T>(uuid: string, fn: () => Promise<T>): Promise<T> {
    if (this.busy.has(uuid)) {
      throw regError('BLOB_UPLOAD_INVALID', `upload ${uuid} is already receiving data in another request`);
    }
    this.busy.add(uuid);
    try {
      return await fn();
    } finally {
      this.busy.delete(uuid);
    }
  }
}

/** All repository names that exist on disk, sorted (a repo is a dir holding _manifests, _layers or _uploads). */
export async function listRepoDirs(layout: Layout): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string, prefix: string): Promise<void> {
    const entries = await listDir(dir);
    if (entries.some((e) => e === '_manifests' || e === '_layers' || e === '_uploads')) out.push(prefix);
    for (const e of entries) {
      if (e.startsWith('_') || e.startsWith('.')) continue;
      await walk(join(dir, e), prefix ? `${prefix}/${e}` : e);
    }
  }
  await walk(layout.reposDir(), '');
  return out.filter((r) => r !== '').sort();
}
