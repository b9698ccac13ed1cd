// Content digests of a build context's files, taken from the tar bytes on their
// way to `tar -x`: the context is read once, and a COPY's cache key needs no
// second read of the files it names. Each digest carries the size and mtime
// the archive gave the file (tar -x sets both), a stat signature checked before
// the digest is trusted, so a file changed or replaced since is read again.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { join, posix } from 'node:path';
import tar from 'tar-stream';

export interface KnownDigest {
  size: number;
  /** Whole seconds, as a tar header holds them. */
  mtimeSec: number;
  /** sha256 hex of the content. */
  digest: string;
}

/** Looks a context file up by its host path and lstat; undefined means "read it". */
export type DigestLookup = (abs: string, st: { size: number; mtimeMs: number }) => string | undefined;

export class ContextDigests {
  private readonly byPath = new Map<string, KnownDigest>();
  private readonly extract = tar.extract();
  private readonly finished: Promise<void>;
  private failed = false;

  constructor(private readonly dir: string) {
    this.extract.on('entry', (header, body, next) => {
      const name = posix.normalize(`/${header.name}`).slice(1);
      if ((header.type !== 'file' && header.type !== 'contiguous-file') || !name) {
        body.on('end', () => next());
        body.resume();
        return;
      }
      const h = createHash('sha256');
      body.on('data', (c: Buffer) => h.update(c));
      body.on('end', () => {
        this.byPath.set(join(this.dir, name), { size: header.size ?? 0, mtimeSec: Math.floor((header.mtime?.getTime() ?? 0) / 1000), digest: h.digest('hex') });
        next();
      });
    });
    this.finished = new Promise<void>((resolve) => {
      this.extract.on('finish', resolve);
      // A stream tar-stream cannot parse is for tar -x to judge; here it only means no digests.
      this.extract.on('error', () => {
        this.failed = true;
        resolve();
      });
    });
  }

  /** Feeds the next bytes of the (uncompressed) archive. */
  async write(chunk: Buffer): Promise<void> {
    if (this.failed) return;
    if (!this.extract.write(chunk)) await Promise.race([once(this.extract, 'drain'), this.finished]);
  }

  /** Ends the archive; resolves with the lookup (empty when the archive did not parse). */
  async end(): Promise<DigestLookup> {
    if (!this.failed) this.extract.end();
    await this.finished;
    const known = this.failed ? new Map<string, KnownDigest>() : this.byPath;
    return (abs, st) => {
      const k = known.get(abs);
      return k && k.size === st.size && k.mtimeSec === Math.floor(st.mtimeMs / 1000) ? k.digest : undefined;
    };
  }
}
