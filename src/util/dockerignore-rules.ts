// .dockerignore patterns as Docker reads them: one per line, '#' comments, '!'
// re-includes, '*' and '?' within one path segment, '**' across any number of
// segments; the last matching line wins, and a pattern that matches a
// directory covers everything inside it. Pure: the daemon prunes an unpacked
// context with them, the CLI leaves ignored files out of the tar it sends.

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
