// Removes a directory tree under an open directory without following any
// symlink in it: each level is opened with O_NOFOLLOW under its parent's fd and
// emptied through that fd. (rm -r or fs.rm on a path would walk into a symlink a
// container swapped in mid-way, and delete host files.)
import { lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import { at, errno, openDirAt } from './scoped-root.js';

export async function removeTreeAt(dirFd: number, name: string): Promise<void> {
  const st = await lstat(at(dirFd, name)).catch((err: unknown) => {
    if (errno(err) === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return;
  if (!st.isDirectory()) {
    await unlink(at(dirFd, name));
    return;
  }
  const dir = await openDirAt(dirFd, name);
  try {
    for (const n of await readdir(`/proc/self/fd/${dir.fd}`)) await removeTreeAt(dir.fd, n);
  } finally {
    await dir.close();
  }
  await rmdir(at(dirFd, name));
}
