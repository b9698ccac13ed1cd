// A container's changes as an OCI layer tar (for `docker commit` and build
// steps): the overlay upper dir, with overlayfs whiteouts turned back into OCI
// ones (char device 0:0 -> `.wh.NAME`, opaque dir -> `dir/.wh..wh..opq`).
//
// GNU tar writes the archive (owners, modes, xattrs, hardlinks, sparse files)
// from an explicit sorted file list, so the output is deterministic for a given
// upper dir; whiteout markers are empty files staged in a side directory and
// appended in a second pass (tar -r), because tar cannot rename a char device
// into a regular file.
import { lstat, mkdir, readdir, writeFile, rm } from 'node:fs/promises';
import { join, dirname, basename, relative } from 'node:path';
import { runTool } from '../util/exec-file.js';
import { diffIdOfFile } from '../oci/digest.js';

export interface LayerDiff {
  diffId: string;
  /** Bytes of the tar. */
  size: number;
  /** Number of whiteouts (deleted paths) and opaque dirs the diff carries. */
  whiteouts: number;
}

/** Writes the changes recorded in `upper` as an uncompressed layer tar at outPath (workDir is scratch space the caller owns). */
export async function writeLayerDiff(upper: string, outPath: string, workDir: string): Promise<LayerDiff> {
  const opaque = new Set(await opaqueDirs(upper));
  const keep: string[] = [];
  const markers: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const p = join(dir, name);
      const rel = relative(upper, p);
      const st = await lstat(p);
      if (st.isCharacterDevice() && st.rdev === 0) {
        markers.push(join(dirname(rel), `.wh.${basename(rel)}`));
        continue;
      }
      keep.push(rel);
      if (st.isDirectory()) {
        if (opaque.has(p)) markers.push(join(rel, '.wh..wh..opq'));
        await walk(p);
      }
    }
  };
  await walk(upper);

  // --xattrs makes tar write pax headers, which carry atime and ctime: drop them so equal content gives equal bytes.
  const common = ['--no-recursion', '--numeric-owner', '--pax-option=delete=atime,delete=ctime', '--xattrs', '--xattrs-include=*', '--xattrs-exclude=trusted.overlay.*', '--null'];
  const keepList = join(workDir, 'keep.list');
  await mkdir(workDir, { recursive: true });
  // './' keeps names that start with '-' from reading as options; the transform drops it again.
  await writeFile(keepList, keep.map((p) => `./${p}\0`).join(''));
  await runTool('tar', ['-c', '-f', outPath, ...common, '--transform=flags=rh;s,^\\./,,', '-C', upper, '-T', keepList]);
  if (markers.length > 0) {
    const staging = join(workDir, 'whiteouts');
    for (const m of markers) {
      await mkdir(join(staging, dirname(m)), { recursive: true });
      await writeFile(join(staging, m), '', { mode: 0o644 });
    }
    const markList = join(workDir, 'markers.list');
    await writeFile(markList, markers.sort().map((p) => `./${p}\0`).join(''));
    await runTool('tar', ['-r', '-f', outPath, ...common, '--owner=0', '--group=0', '--mtime=@0', '--transform=flags=rh;s,^\\./,,', '-C', staging, '-T', markList]);
    await rm(staging, { recursive: true, force: true });
  }
  const { diffId, uncompressedSize } = await diffIdOfFile(outPath);
  return { diffId, size: uncompressedSize, whiteouts: markers.length };
}

/** Directories under `upper` that overlayfs marked opaque (trusted.overlay.opaque=y). */
async function opaqueDirs(upper: string): Promise<string[]> {
  // -h -P: never through a symlink. The upper dir is the container's; a link
  // there points into its own tree (dangling from the host's view, as Debian's
  // /usr/share/doc/<pkg> -> <other pkg> links are) or anywhere on the host.
  const { stdout } = await runTool('getfattr', ['-R', '-P', '-h', '--absolute-names', '-d', '-m', '^trusted\\.overlay\\.opaque$', upper]);
  const out: string[] = [];
  let current: string | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('# file: ')) current = line.slice('# file: '.length).replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    else if (current && /^trusted\.overlay\.opaque="y"$/.test(line)) out.push(current);
  }
  return out;
}
