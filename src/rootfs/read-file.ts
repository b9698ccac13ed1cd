// Reads a small file (/etc/passwd, /etc/group) out of an image or container
// root: resolved inside the root, opened without following a final symlink and
// without blocking, and read only if it is a regular file. A hostile image's
// /etc/passwd that links to a host file, or is a fifo, yields nothing rather
// than a host file's content or a daemon stuck on open().
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { errno, ScopedRoot } from './scoped-root.js';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = constants;
/** Larger than any real passwd or group file; a bigger one is not read whole. */
const MAX_BYTES = 16 * 1024 * 1024;

/** The file's text, or undefined when it is missing or not a regular file inside the root. */
export async function readFileInRoot(rootPath: string, path: string): Promise<string | undefined> {
  const root = await ScopedRoot.open(rootPath).catch(() => undefined);
  if (!root) return undefined;
  try {
    const r = await root.resolve(path).catch(() => undefined);
    if (!r) return undefined;
    try {
      const fh = await open(r.procPath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch((err: unknown) => {
        if (['ENOENT', 'ELOOP', 'ENXIO', 'ENOTDIR'].includes(errno(err) ?? '')) return undefined;
        throw err;
      });
      if (!fh) return undefined;
      try {
        const st = await fh.stat();
        if (!st.isFile()) return undefined;
        const buf = Buffer.alloc(Math.min(st.size, MAX_BYTES));
        const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
        return buf.subarray(0, bytesRead).toString('utf8');
      } finally {
        await fh.close();
      }
    } finally {
      await r.close();
    }
  } finally {
    await root.close();
  }
}
