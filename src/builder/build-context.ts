// The build context as it arrives over the API: a tar stream (plain, gzip,
// bzip2 or xz: GNU tar sniffs which) unpacked into a private dir under the
// daemon root. The caller removes it when the build ends.
import { createWriteStream } from 'node:fs';
import { appendFile, mkdir, rm, stat } from 'node:fs/promises';
import { compressionOfFile } from '../oci/digest.js';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { invalid, messageOf } from '../errdefs.js';
import { runTool } from '../util/exec-file.js';

export interface UnpackedContext {
  dir: string;
  remove(): Promise<void>;
}

export async function unpackContext(root: string, body: NodeJS.ReadableStream): Promise<UnpackedContext> {
  const base = join(root, 'build', 'tmp', `ctx-${randomBytes(8).toString('hex')}`);
  const dir = join(base, 'context');
  const remove = (): Promise<void> => rm(base, { recursive: true, force: true });
  try {
    await mkdir(dir, { recursive: true });
    const tarPath = join(base, 'context.tar');
    await pipeline(body, createWriteStream(tarPath));
    await padTar(tarPath);
    try {
      await runTool('tar', ['-x', '-f', tarPath, '-C', dir, '--no-same-owner', '--delay-directory-restore', '--warning=no-timestamp']);
    } catch (err) {
      throw invalid(`the build context is not a valid tar archive: ${messageOf(err).split('\n')[0]}`);
    }
    await rm(tarPath, { force: true });
    return { dir, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/**
 * The docker CLI ends a context whose Dockerfile it added (-f outside the
 * context) without the last entry's padding and the end-of-archive blocks; Go's
 * tar reader shrugs, GNU tar does not. Zero padding makes it a proper archive.
 */
async function padTar(path: string): Promise<void> {
  if ((await compressionOfFile(path)) !== 'none') return;
  const { size } = await stat(path);
  if (size === 0) return;
  await appendFile(path, Buffer.alloc(((512 - (size % 512)) % 512) + 1024));
}
