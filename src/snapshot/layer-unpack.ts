// Unpacks one layer tar into a directory that overlayfs can use as a lowerdir.
//
// GNU tar does the extraction (a Debian tool made for exactly this: owners,
// modes, xattrs, symlinks, hardlinks, sparse files, '..' member refusal); we
// only add what tar cannot know: OCI whiteouts become overlayfs whiteouts
// (`.wh.NAME` -> char device 0:0 named NAME, `.wh..wh..opq` -> the directory
// gets xattr trusted.overlay.opaque=y), so stacked lowerdirs show the right view.
import { lstat, readdir, rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { feedTar } from './tar-feed.js';
import { join, dirname, basename } from 'node:path';
import { runTool } from '../util/exec-file.js';
import { compressionOfFile } from '../oci/digest.js';
import { invalid } from '../errdefs.js';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
// aufs-era bookkeeping entries (hardlink dirs) that some old images carry.
const AUFS_META_PREFIX = '.wh..wh.';

/**
 * Unpacks a layer blob (plain or gzip tar) into dest and returns its diff ID,
 * measured on the way: one read of the blob both unpacks and verifies it.
 */
export async function unpackLayer(blobPath: string, dest: string): Promise<{ diffId: string }> {
  const compression = await compressionOfFile(blobPath);
  if (compression === 'zstd') throw invalid(`layer ${basename(blobPath)}: zstd-compressed layers are not supported`);
  const args = [
    '-x',
    '-f', '-',
    '-C', dest,
    '--numeric-owner',
    '--same-owner',
    '--same-permissions',
    '--xattrs',
    '--xattrs-include=*',
    // Overlay's own markers come only from whiteout conversion below, never from
    // layer content; SELinux labels belong to the host policy, not the image.
    '--xattrs-exclude=trusted.overlay.*',
    '--xattrs-exclude=security.selinux',
  ];
  const file = createReadStream(blobPath);
  let source: AsyncIterable<Buffer> = file;
  if (compression === 'gzip') {
    // Node's zlib (in the libuv pool) rather than tar -z, so we can hash the tar bytes tar reads.
    const gunzip = createGunzip();
    file.on('error', (err) => gunzip.destroy(err));
    source = file.pipe(gunzip);
  }
  const hash = createHash('sha256');
  let res;
  try {
    res = await feedTar(args, source, (b) => hash.update(b));
  } catch (err) {
    throw invalid(`layer ${basename(blobPath)}: cannot read: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (res.code !== 0) throw invalid(`layer ${basename(blobPath)}: ${res.firstError || `tar exit ${res.code}`}`);
  await convertWhiteouts(dest);
  return { diffId: 'sha256:' + hash.digest('hex') };
}

async function convertWhiteouts(root: string): Promise<void> {
  const { stdout } = await runTool('find', [root, '-name', `${WHITEOUT_PREFIX}*`, '-print0']);
  const paths = stdout.split('\0').filter((p) => p !== '');
  // Deepest first, so removing an aufs meta dir never invalidates a later path.
  paths.sort((a, b) => b.length - a.length);
  for (const p of paths) {
    const name = basename(p);
    const parent = dirname(p);
    if (name === OPAQUE_MARKER) {
      await runTool('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', parent]);
      await rm(p, { force: true });
    } else if (name.startsWith(AUFS_META_PREFIX)) {
      await rm(p, { recursive: true, force: true });
    } else {
      const target = join(parent, name.slice(WHITEOUT_PREFIX.length));
      await rm(p, { force: true });
      await rm(target, { recursive: true, force: true });
      await runTool('mknod', ['-m', '0', target, 'c', '0', '0']);
    }
  }
}

/**
 * Bytes of content in an unpacked layer the way Docker counts it: sizes of
 * everything but directories, each hardlinked inode once.
 */
export async function unpackedSize(root: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        await walk(p);
        continue;
      }
      const st = await lstat(p, { bigint: true });
      if (st.nlink > 1n) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      total += Number(st.size);
    }
  };
  await walk(root);
  return total;
}
