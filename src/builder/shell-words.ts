// Docker's word processing for instruction arguments (ENV, LABEL, COPY, WORKDIR…):
// quotes are removed, the escape character protects the next character, and
// $var / ${var} / ${var:-default} / ${var:+alt} (and the colon-less forms) expand
// from the build's variables. RUN's shell form is left to the shell.
import { invalid } from '../errdefs.js';

export type Vars = ReadonlyMap<string, string>;

interface LexOptions {
  escape: string;
  /** Split on unquoted whitespace (true) or keep the text as one word (false). */
  split: boolean;
}

/** Expands variables and removes quotes; returns the words. */
export function processWords(text: string, vars: Vars, escape = '\\'): string[] {
  return lex(text, vars, { escape, split: true });
}

/** Expands variables and removes quotes, keeping the text as one word. */
export function processWord(text: string, vars: Vars, escape = '\\'): string {
  return lex(text, vars, { escape, split: false }).join('');
}

function lex(text: string, vars: Vars, opts: LexOptions): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const esc = opts.escape;
  while (i < text.length) {
    const ch = text[i]!;
    if (opts.split && /\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (ch === esc) {
      if (i + 1 < text.length) cur += text[i + 1];
      else cur += ch;
      i += 2;
    } else if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw invalid(`unexpected end of statement while looking for matching single-quote in: ${text}`);
      cur += text.slice(i + 1, end);
      i = end + 1;
    } else if (ch === '"') {
      i++;
      let closed = false;
      while (i < text.length) {
        const c = text[i]!;
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        if (c === esc && i + 1 < text.length && (text[i + 1] === '"' || text[i + 1] === '$' || text[i + 1] === esc)) {
          cur += text[i + 1];
          i += 2;
        } else if (c === '$') {
          const r = expandAt(text, i, vars, esc);
          cur += r.value;
          i = r.next;
        } else {
          cur += c;
          i++;
        }
      }
      if (!closed) throw invalid(`unexpected end of statement while looking for matching double-quote in: ${text}`);
    } else if (ch === '$') {
      const r = expandAt(text, i, vars, esc);
      cur += r.value;
      i = r.next;
    } else {
      cur += ch;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** Expands the variable reference starting at text[i] === '$'. */
function expandAt(text: string, i: number, vars: Vars, esc: string): { value: string; next: number } {
  const next = text[i + 1];
  if (next === '{') {
    const close = matchingBrace(text, i + 2);
    if (close < 0) throw invalid(`missing '}' in variable reference: ${text.slice(i)}`);
    const body = text.slice(i + 2, close);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])(.*))?$/s.exec(body);
    if (!m) throw invalid(`bad substitution: \${${body}}`);
    const [, name, op, word] = m as unknown as [string, string, string | undefined, string | undefined];
    const set = vars.has(name);
    const value = vars.get(name) ?? '';
    const alt = (): string => processWord(word ?? '', vars, esc);
    let out = value;
    if (op === ':-') out = value ? value : alt();
    else if (op === '-') out = set ? value : alt();
    else if (op === ':+') out = value ? alt() : '';
    else if (op === '+') out = set ? alt() : '';
    return { value: out, next: close + 1 };
  }
  const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
  if (!m) return { value: '$', next: i + 1 };
  return { value: vars.get(m[0]) ?? '', next: i + 1 + m[0].length };
}

function matchingBrace(text: string, from: number): number {
  let depth = 1;
  for (let j = from; j < text.length; j++) {
    if (text[j] === '{') depth++;
    else if (text[j] === '}' && --depth === 0) return j;
  }
  return -1;
}

/**
 * KEY=VALUE pairs (ENV, LABEL, ARG): each whitespace-separated word is one pair,
 * quotes group spaces into a value. The legacy `ENV KEY value with spaces` form
 * is the caller's business (one word without '=').
 */
export function parseKeyValues(text: string, vars: Vars, escape: string, what: string, line: string): Array<[string, string]> {
  const words = processWords(text, vars, escape);
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw invalid(`${line}: ${what} names must be KEY=VALUE pairs, got ${JSON.stringify(w)}`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}
