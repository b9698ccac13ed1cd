// The build context as it arrives over the API: a tar stream (plain, gzip,
// bzip2 or xz: GNU tar sniffs which) unpacked into a private dir under the
// daemon root. The caller removes it when the build ends.
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
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
    try {
      await runTool('tar', ['-x', '-f', tarPath, '-C', dir, '--no-same-owner', '--delay-directory-restore']);
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
