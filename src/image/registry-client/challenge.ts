// WWW-Authenticate parsing (RFC 7235): a registry answers 401 with one or more
// challenges such as `Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"`
// or `Basic realm="registry"`. Parameter values may be quoted (with \-escapes) or bare tokens.

export interface AuthChallenge {
  /** Lower-cased scheme: 'basic', 'bearer', ... */
  scheme: string;
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

export function parseChallenges(header: string | string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  const headers = Array.isArray(header) ? header : [header];
  const out: AuthChallenge[] = [];
  for (const h of headers) out.push(...parseOne(h));
  return out;
}

function parseOne(s: string): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  let i = 0;
  const skipSpace = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  let current: AuthChallenge | undefined;
  while (i < s.length) {
    skipSpace();
    if (s[i] === ',') {
      i++;
      continue;
    }
    const m = TOKEN.exec(s.slice(i));
    if (!m) break; // garbage: keep what was parsed so far
    const word = m[0];
    i += word.length;
    skipSpace();
    if (s[i] === '=' && current) {
      i++;
      skipSpace();
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        i++; // closing quote
      } else {
        const v = TOKEN.exec(s.slice(i));
        value = v ? v[0] : '';
        i += value.length;
      }
      current.params[word.toLowerCase()] = value;
    } else {
      // A new scheme starts (token68 forms like `Negotiate abc==` are not used by registries).
      current = { scheme: word.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;
}
