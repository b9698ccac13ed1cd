// Content-addressed blobs: <dir>/sha256/<hex>. A blob is written to a temp file
// in the same filesystem, hashed on the way, fsynced and renamed into place, so
// a path under sha256/ always holds exactly the bytes its name promises.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, link, copyFile, readFile, open, readdir } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { digestOf, digestOfFile, hexOf } from '../oci/digest.js';
import { fsyncDir } from '../util/atomic-file.js';
import { invalid, notFound } from '../errdefs.js';

export interface BlobInfo {
  digest: string;
  size: number;
}

export class BlobStore {
  private readonly shaDir: string;
  private readonly tmpDir: string;

  constructor(readonly dir: string) {
    this.shaDir = join(dir, 'sha256');
    this.tmpDir = join(dir, 'tmp');
  }

  async init(): Promise<void> {
    await mkdir(this.shaDir, { recursive: true });
    // Leftovers of writes interrupted by a crash: never referenced, safe to drop.
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
  }

  path(digest: string): string {
    return join(this.shaDir, hexOf(digest));
  }

  async has(digest: string): Promise<boolean> {
    try {
      await stat(this.path(digest));
      return true;
    } catch {
      return false;
    }
  }

  async size(digest: string): Promise<number> {
    try {
      return (await stat(this.path(digest))).size;
    } catch {
      throw notFound(`blob ${digest} not found`);
    }
  }

  async read(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.path(digest));
    } catch {
      throw notFound(`blob ${digest} not found`);
    }
  }

  openRead(digest: string): NodeJS.ReadableStream {
    return createReadStream(this.path(digest));
  }

  async putBytes(data: Uint8Array, expected?: string): Promise<BlobInfo> {
    const digest = digestOf(data);
    if (expected !== undefined && expected !== digest) throw invalid(`blob digest mismatch: expected ${expected}, got ${digest}`);
    if (await this.has(digest)) return { digest, size: data.length };
    const tmp = this.tmpName();
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.commit(tmp, digest);
    return { digest, size: data.length };
  }

  /** Streams into the store, hashing on the way; verifies `expected` when given. */
  async putStream(input: NodeJS.ReadableStream, expected?: string): Promise<BlobInfo> {
    const tmp = this.tmpName();
    const hash = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      const out = createWriteStream(tmp, { mode: 0o644, flush: true });
      await pipeline(input, tap, out);
      const digest = 'sha256:' + hash.digest('hex');
      if (expected !== undefined && expected !== digest) throw invalid(`blob digest mismatch: expected ${expected}, got ${digest}`);
      await this.commit(tmp, digest);
      return { digest, size };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** Adds a file already on disk: hard link when on the same filesystem (no copy), else copy. The source is left alone. */
  async putFile(src: string, expected?: string): Promise<BlobInfo> {
    const { digest, size } = await digestOfFile(src);
    if (expected !== undefined && expected !== digest) throw invalid(`blob digest mismatch: expected ${expected}, got ${digest}`);
    if (await this.has(digest)) return { digest, size };
    const tmp = this.tmpName();
    try {
      await link(src, tmp);
    } catch {
      await copyFile(src, tmp);
    }
    await this.commit(tmp, digest);
    return { digest, size };
  }

  /** Digests of every blob stored. */
  async list(): Promise<string[]> {
    const names = await readdir(this.shaDir);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  async remove(digest: string): Promise<void> {
    await rm(this.path(digest), { force: true });
  }

  /** A fresh temp path on the store's filesystem, for callers staging data. */
  tmpName(): string {
    return join(this.tmpDir, randomBytes(8).toString('hex'));
  }

  private async commit(tmp: string, digest: string): Promise<void> {
    try {
      await rename(tmp, this.path(digest));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    await fsyncDir(this.shaDir);
  }
}
