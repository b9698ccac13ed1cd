// .dockerignore: which context paths a build never sees. Patterns as Docker
// reads them: one per line, '#' comments, '!' re-includes, '*' and '?' within one
// path segment, '**' across any number of segments; the last matching line wins,
// and a pattern that matches a directory covers everything inside it.
import { readdir, rm, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface IgnoreRule {
  re: RegExp;
  exclude: boolean;
  pattern: string;
}

export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.replace(/\r$/, '').trim();
    if (!line || line.startsWith('#')) continue;
    let exclude = false;
    if (line.startsWith('!')) {
      exclude = true;
      line = line.slice(1).trim();
    }
    line = cleanPattern(line);
    if (!line) continue;
    rules.push({ re: patternToRegExp(line), exclude, pattern: line });
  }
  return rules;
}

function cleanPattern(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return parts.join('/');
}

function patternToRegExp(p: string): RegExp {
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') {
      if (p[i + 1] === '*') {
        i++;
        if (p[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = p.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += '[' + p.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else if (c === '\\' && i + 1 < p.length) {
      re += '\\' + p[++i];
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  // A match on a directory covers what is inside it.
  return new RegExp(`^${re}(?:/.*)?$`);
}

/** True when rel (a slash-separated path inside the context) is ignored. */
export function isIgnored(rules: IgnoreRule[], rel: string): boolean {
  let ignored = false;
  for (const r of rules) if (r.re.test(rel)) ignored = !r.exclude;
  return ignored;
}

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
