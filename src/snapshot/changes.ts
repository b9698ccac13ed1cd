// What a container changed in its filesystem (`docker diff`, GET
// /containers/{id}/changes), read from its overlay upper dir: a whiteout is a
// deletion, anything else is an addition unless some lower layer has that path.
import { lstat, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** Docker's change kinds: 0 modified, 1 added, 2 deleted. */
export type ChangeKind = 0 | 1 | 2;

export interface FsChange {
  Path: string;
  Kind: ChangeKind;
}

/** Changes in `upper` against the image's lowerDirs (any order), sorted by path like Docker's. */
export async function containerChanges(upper: string, lowerDirs: string[]): Promise<FsChange[]> {
  const out: FsChange[] = [];
  const inLower = async (rel: string): Promise<boolean> => {
    for (const l of lowerDirs) {
      try {
        const st = await lstat(join(l, rel));
        // A whiteout in a lower layer means the path is gone from the image.
        return !(st.isCharacterDevice() && st.rdev === 0);
      } catch {
        // not in this layer; look further down
      }
    }
    return false;
  };
  const walk = async (dir: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const p = join(dir, name);
      const rel = relative(upper, p);
      const st = await lstat(p);
      if (st.isCharacterDevice() && st.rdev === 0) {
        out.push({ Path: '/' + rel, Kind: 2 });
        continue;
      }
      out.push({ Path: '/' + rel, Kind: (await inLower(rel)) ? 0 : 1 });
      if (st.isDirectory()) await walk(p);
    }
  };
  await walk(upper);
  out.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
  return out;
}
