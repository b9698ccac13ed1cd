// fsGroup on a volume, as the kubelet's SetVolumeOwnership: every file and
// directory gets the group, group read/write (read only for a read-only
// volume), directories also group execute and setgid so what containers
// create there inherits the group. Symlinks are left alone (never followed).
// fsGroupChangePolicy OnRootMismatch skips the walk when the volume's root
// already has the group and the permissions.
import { lchown, lstat, chmod, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const rwMask = 0o660;
const roMask = 0o440;
const execMask = 0o110;
const setgid = 0o2000;

export async function applyFsGroup(root: string, gid: number, policy: string, readOnly: boolean): Promise<void> {
  if (policy === 'OnRootMismatch') {
    const st = await lstat(root);
    const want = (readOnly ? roMask : rwMask) | execMask | setgid;
    if (st.gid === gid && (st.mode & want) === want) return;
  }
  await walk(root, gid, readOnly ? roMask : rwMask);
}

async function walk(path: string, gid: number, mask: number): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (!st || st.isSymbolicLink()) return;
  await lchown(path, -1, gid);
  const m = st.isDirectory() ? mask | execMask | setgid : mask;
  // chown clears setgid on some filesystems: set the mode after it.
  await chmod(path, (st.mode & 0o7777) | m);
  if (!st.isDirectory()) return;
  for (const e of await readdir(path)) await walk(join(path, e), gid, mask);
}
