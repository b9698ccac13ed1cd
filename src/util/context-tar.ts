// A build context as the engine's /build takes it: the context directory as a
// tar stream (GNU tar, read on the client's side), plus a Dockerfile that lives
// outside the context, added under another name. Shared by `tug build` and
// `tug compose build`; each caller says which error a failed read becomes.
// As the docker CLI does, paths .dockerignore excludes are not sent at all
// (the daemon prunes them again, for clients that send everything).
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { isIgnored, parseDockerignore, type IgnoreRule } from './dockerignore-rules.js';

export interface OutsideDockerfile {
  dir: string;
  name: string;
  /** The name it takes inside the tar. */
  as: string;
}

/**
 * The context's paths to send (relative, './'-prefixed, directories before
 * what they hold), or undefined when there is no .dockerignore to apply.
 * The Dockerfile and .dockerignore always go: the daemon reads them first.
 */
async function includedPaths(dir: string, keep: string[]): Promise<string[] | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, '.dockerignore'), 'utf8');
  } catch {
    return undefined;
  }
  const rules: IgnoreRule[] = parseDockerignore(text);
  if (rules.length === 0) return undefined;
  const hasExceptions = rules.some((r) => r.exclude);
  const always = new Set(['.dockerignore', ...keep]);
  const out: string[] = ['.'];
  const walk = async (abs: string, rel: string): Promise<void> => {
    const entries = await readdir(abs, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const ign = isIgnored(rules, r) && !always.has(r);
      if (e.isDirectory()) {
        // An ignored dir may still hold re-included paths when there are '!' lines.
        if (ign && !hasExceptions) continue;
        const before = out.length;
        out.push(`./${r}`);
        await walk(join(abs, e.name), r);
        if (ign && out.length === before + 1) out.pop(); // ignored and nothing re-included inside
      } else if (!ign) out.push(`./${r}`);
    }
  };
  await walk(dir, '');
  return out;
}

export function tarContext(dir: string, dockerfile: OutsideDockerfile | undefined, fail: (message: string) => Error, dockerfileInContext = 'Dockerfile'): Readable {
  const out = new PassThrough();
  void (async () => {
    const paths = await includedPaths(dir, [dockerfileInContext.replace(/^\.\//, '')]);
    // With a list, tar gets exactly those names (directories without recursion), NUL-separated on stdin.
    const args = paths ? ['-c', '-f', '-', '-C', dir, '--no-recursion', '--null', '-T', '-'] : ['-c', '-f', '-', '-C', dir, '.'];
    if (dockerfile) args.push('-C', dockerfile.dir, `--transform=s|^${dockerfile.name.replace(/[.|]/g, '\\$&')}$|${dockerfile.as}|`, dockerfile.name);
    const child = spawn('tar', args, { stdio: [paths ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    if (paths) child.stdin!.end(paths.join('\0') + '\0');
    let err = '';
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    child.stdout!.pipe(out, { end: false });
    child.on('close', (code) => {
      if (code !== 0) out.destroy(fail(`cannot read the build context ${dir}: ${err.trim()}`));
      else out.end();
    });
  })().catch((err: unknown) => out.destroy(fail(`cannot read the build context ${dir}: ${(err as Error).message}`)));
  return out;
}
