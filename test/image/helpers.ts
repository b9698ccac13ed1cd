// Shared bits of the image tests: temp roots that clean themselves up, and
// layer tars made with GNU tar from a directory tree described inline.
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTool } from '../../src/util/exec-file.js';
import { listContainerLayers, removeContainerLayer } from '../../src/snapshot/container-layer.js';

export const fixturesDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/image/fixtures');

/** A fresh engine root in /tmp; cleanup() unmounts every container layer in it and deletes it. */
export async function tempRoot(prefix = 'tug-img-'): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  return {
    root,
    cleanup: async () => {
      for (const id of await listContainerLayers(root)) await removeContainerLayer(root, id);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Writes files (path -> content; content null makes a directory) under dir, then tars them to out. */
export async function makeTar(dir: string, files: Record<string, string | null>, out: string, opts: { gzip?: boolean } = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [p, content] of Object.entries(files)) {
    if (content === null) await mkdir(join(dir, p), { recursive: true });
    else {
      await mkdir(dirname(join(dir, p)), { recursive: true });
      await writeFile(join(dir, p), content);
    }
  }
  const members = [...new Set(Object.keys(files).map((p) => p.split('/')[0]!))];
  await runTool('tar', ['-c', ...(opts.gzip ? ['-z'] : []), '-f', out, '--owner=0', '--group=0', '--numeric-owner', '--sort=name', '-C', dir, ...members]);
}
