// The build cache: step key → image ID, kept under <root>/build/cache.json so
// it survives a daemon restart. A key is a hash of the parent image ID, the
// instruction with its expanded arguments, and the content of what it copies;
// an entry whose image has since been removed is a miss, not an error.
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { writeJsonAtomic } from '../util/atomic-file.js';

interface CacheFile {
  version: 1;
  entries: Record<string, string>;
}

export function cacheKey(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

export class BuildCache {
  private entries = new Map<string, string>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(readonly dir: string) {}

  static async open(root: string): Promise<BuildCache> {
    const c = new BuildCache(join(root, "build"));
    await mkdir(c.dir, { recursive: true });
    try {
      const f = JSON.parse(await readFile(c.file, 'utf8')) as CacheFile;
      for (const [k, v] of Object.entries(f.entries ?? {})) c.entries.set(k, v);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return c;
  }

  get file(): string {
    return join(this.dir, 'cache.json');
  }

  /** Where RUN --mount=type=cache directories live (kept between builds). */
  get cacheMountsDir(): string {
    return join(this.dir, 'cache-mounts');
  }

  get(key: string): string | undefined {
    return this.entries.get(key);
  }

  async set(key: string, imageId: string): Promise<void> {
    this.entries.set(key, imageId);
    await this.flush();
  }

  async delete(key: string): Promise<void> {
    if (this.entries.delete(key)) await this.flush();
  }

  /** Forgets every entry and empties the cache mounts; returns the image IDs the cache pointed at. */
  async prune(): Promise<string[]> {
    const ids = [...new Set(this.entries.values())];
    this.entries.clear();
    await this.flush();
    await rm(this.cacheMountsDir, { recursive: true, force: true });
    return ids;
  }

  get size(): number {
    return this.entries.size;
  }

  private flush(): Promise<void> {
    // Writes queue up so the file always ends with the latest map.
    const snapshot = (): CacheFile => ({ version: 1, entries: Object.fromEntries(this.entries) });
    this.writing = this.writing.then(() => writeJsonAtomic(this.file, snapshot()));
    return this.writing;
  }
}
