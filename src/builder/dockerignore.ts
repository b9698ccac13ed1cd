// .dockerignore on the daemon's side: the ignored paths leave an unpacked
// context (a client may have sent them; the docker CLI and tug's do not).
// The patterns themselves are in util/dockerignore-rules.ts.
import { readdir, rm, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isIgnored, parseDockerignore } from '../util/dockerignore-rules.js';

export { isIgnored, parseDockerignore, type IgnoreRule } from '../util/dockerignore-rules.js';

/**
 * Removes ignored paths from an unpacked context dir. The caller has read the
 * Dockerfile already: like Docker's daemon, the Dockerfile and .dockerignore go
 * too when .dockerignore names them (clients send both regardless, and docker-py
 * names a Dockerfile it brought from outside the context that way).
 */
export async function pruneContext(dir: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(join(dir, '.dockerignore'), 'utf8');
  } catch {
    return 0;
  }
  const rules = parseDockerignore(text);
  if (rules.length === 0) return 0;
  const hasExceptions = rules.some((r) => r.exclude);
  let removed = 0;
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const e of await readdir(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const p = join(abs, e.name);
      const ign = isIgnored(rules, r);
      if (e.isDirectory()) {
        // An ignored dir may still hold re-included paths when there are '!' lines.
        if (ign && !hasExceptions) {
          await rm(p, { recursive: true, force: true });
          removed++;
        } else {
          await walk(p, r);
          // Docker's context tar has no entry for an ignored dir, only for what it re-includes inside;
          // one left empty is not in the build at all.
          if (ign && (await readdir(p)).length === 0) {
            await rm(p, { recursive: true, force: true });
            removed++;
          }
        }
      } else if (ign) {
        await rm(p, { force: true });
        removed++;
      }
    }
  };
  await walk(dir, '');
  return removed;
}
