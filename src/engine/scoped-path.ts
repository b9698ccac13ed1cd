// Resolves a path inside a container's root the way the container would see it:
// symlinks (absolute or relative) never lead outside the root. This is what
// makes `docker cp` safe against a container that plants a hostile symlink.
import { lstat, readlink } from 'node:fs/promises';
import { posix } from 'node:path';

export async function resolveInScope(root: string, path: string, followFinal = true): Promise<string> {
  const parts = posix.normalize('/' + path).split('/').filter(Boolean);
  let resolved: string[] = [];
  let hops = 0;
  while (parts.length) {
    const part = parts.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, part];
    const host = root + '/' + candidate.join('/');
    const isLast = parts.length === 0;
    let st;
    try {
      st = await lstat(host);
    } catch {
      resolved = candidate;
      continue;
    }
    if (st.isSymbolicLink() && (!isLast || followFinal)) {
      if (++hops > 40) throw new Error(`too many levels of symbolic links: ${path}`);
      const target = await readlink(host);
      if (target.startsWith('/')) resolved = [];
      parts.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    resolved = candidate;
  }
  return root + '/' + resolved.join('/');
}
