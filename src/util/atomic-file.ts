// Crash-safe writes: temp file in the same directory, fsync, rename, fsync the
// directory. A reader sees the old content or the new, never a torn file.
// Files are private (0600) unless the caller says otherwise: state records
// carry container environments, credentials and keys.
//
// A file that is made again from other state whenever it is needed (runtime
// state on tmpfs, which a reboot empties; a container's /etc files, written at
// every start; a pod's volume files, rewritten at every sync) is written with
// `durable: false`: still replaced whole by a rename, so no reader or process
// crash sees it torn, but without the two fsyncs, which only matter for a
// power loss and cost a pod start nine of them.
import { open, rename, mkdir, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface AtomicWriteOptions {
  /** fsync the file and its directory (default true); false for files made again after a crash anyway. */
  durable?: boolean;
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'w', mode).catch(async (err: NodeJS.ErrnoException) => {
    // The directory is there nearly always: made only when the first open says it is not.
    if (err.code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true });
    return open(tmp, 'w', mode);
  });
  const durable = opts.durable ?? true;
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  if (durable) await fsyncDir(dir);
}

export async function writeJsonAtomic(path: string, value: unknown, mode = 0o600, opts: AtomicWriteOptions = {}): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n', mode, opts);
}

export async function fsyncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
