// hostPath volumes checked against their type as the kubelet does
// (pkg/volume/hostpath): DirectoryOrCreate and FileOrCreate make what is
// missing, the others must find the right kind of file, "" checks nothing.
// The messages are the kubelet's, behind "MountVolume.SetUp failed for volume".
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Stats } from 'node:fs';
import { MountError } from './mount-error.js';

const kinds: Record<string, { is: (s: Stats) => boolean; what: string }> = {
  Directory: { is: (s) => s.isDirectory(), what: 'a directory' },
  File: { is: (s) => s.isFile(), what: 'a file' },
  Socket: { is: (s) => s.isSocket(), what: 'a socket file' },
  CharDevice: { is: (s) => s.isCharacterDevice(), what: 'a character device' },
  BlockDevice: { is: (s) => s.isBlockDevice(), what: 'a block device' },
};

export async function checkHostPath(volume: string, path: string, type: string | undefined, missing?: string): Promise<void> {
  if (!path?.startsWith('/')) throw new MountError(volume, `hostPath "${String(path)}" must be an absolute path`);
  const st = await stat(path).catch(() => undefined);
  const t = type ?? '';
  if (t === '') {
    if (missing && !st) throw new MountError(volume, missing);
    return;
  }
  if (t === 'DirectoryOrCreate' && !st) {
    await mkdir(path, { recursive: true, mode: 0o755 });
    await chmod(path, 0o755);
    return;
  }
  if (t === 'FileOrCreate' && !st) {
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    await writeFile(path, '', { flag: 'a', mode: 0o644 });
    return;
  }
  const k = kinds[t.replace(/OrCreate$/, '')];
  if (!k) throw new MountError(volume, `hostPath type "${t}" is not supported (DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice or "")`);
  if (!st || !k.is(st)) throw new MountError(volume, `hostPath type check failed: ${path} is not ${k.what}`);
}
