// The build context as it arrives over the API: a tar stream (plain, gzip,
// bzip2, xz or zstd, told by its magic bytes) piped straight into GNU tar as
// it arrives, unpacked into a private dir under the daemon root: no spool file
// written and read back; the files' digests are taken on the way
// (context-digests.ts). The caller removes the dir when the build ends; a
// context that fails to unpack leaves nothing.
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invalid } from '../errdefs.js';
import { archiveCompressionOf, type ArchiveCompression } from '../oci/digest.js';
import { ContextDigests, type DigestLookup } from './context-digests.js';

export interface UnpackedContext {
  dir: string;
  /** Digests of the files as they came in (plain tar contexts; compressed ones are read when hashed). */
  digests: DigestLookup;
  remove(): Promise<void>;
}

const noDigests: DigestLookup = () => undefined;

const TAR_FLAG: Record<ArchiveCompression, string> = { gzip: '-z', bzip2: '-j', xz: '-J', zstd: '--zstd' };

export async function unpackContext(root: string, body: NodeJS.ReadableStream): Promise<UnpackedContext> {
  const base = join(root, 'build', 'tmp', `ctx-${randomBytes(8).toString('hex')}`);
  const dir = join(base, 'context');
  const remove = (): Promise<void> => rm(base, { recursive: true, force: true });
  try {
    await mkdir(dir, { recursive: true });
    const chunks = (body as Readable)[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    // Enough bytes to tell the compression (tar reads it from a file by itself, not from a pipe).
    const head: Buffer[] = [];
    let headLen = 0;
    let ended = false;
    while (headLen < 6) {
      const r = await chunks.next();
      if (r.done) {
        ended = true;
        break;
      }
      head.push(r.value);
      headLen += r.value.length;
    }
    if (headLen === 0) return { dir, digests: noDigests, remove }; // an empty body: an empty context
    const compression = archiveCompressionOf(Buffer.concat(head).subarray(0, 6));
    const args = ['-x', '-f', '-', '-C', dir, '--no-same-owner', '--delay-directory-restore', '--warning=no-timestamp'];
    if (compression) args.push(TAR_FLAG[compression]);
    const tar = spawn('tar', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    tar.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve, reject) => {
      tar.on('error', reject);
      tar.on('close', (code) => resolve(code));
    });
    const digests = compression ? undefined : new ContextDigests(dir);
    async function* all(): AsyncGenerator<Buffer> {
      let size = headLen;
      for (const c of head) {
        await digests?.write(c);
        yield c;
      }
      if (!ended) {
        for (let r = await chunks.next(); !r.done; r = await chunks.next()) {
          size += r.value.length;
          await digests?.write(r.value);
          yield r.value;
        }
      }
      if (!compression) {
        const pad = padding(size);
        await digests?.write(pad);
        yield pad;
      }
    }
    const fed = pipeline(Readable.from(all(), { objectMode: false }), tar.stdin).catch((err: unknown) => err);
    const [code, feedErr] = await Promise.all([exited, fed]);
    if (code !== 0) throw invalid(`the build context is not a valid tar archive: ${stderr.split('\n')[0] || `tar exited ${code}`}`);
    // tar finished well but stopped reading (it reached the end-of-archive blocks): not an error.
    if (feedErr && (feedErr as NodeJS.ErrnoException).code !== 'EPIPE') throw feedErr;
    return { dir, digests: (await digests?.end()) ?? noDigests, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/**
 * The docker CLI ends a context whose Dockerfile it added (-f outside the
 * context) without the last entry's padding and the end-of-archive blocks; Go's
 * tar reader shrugs, GNU tar does not. Zero padding makes it a proper archive
 * (after a proper end, tar ignores the extra zero blocks).
 */
function padding(size: number): Buffer {
  return Buffer.alloc(((512 - (size % 512)) % 512) + 1024);
}
