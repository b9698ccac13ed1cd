// Reads .env and env_file files as Compose does: KEY=VALUE lines, `export `
// prefixes, # comments, single quotes literal, double quotes with escapes and
// ${VAR} interpolation (against earlier lines, then the given lookup), values
// over several lines inside quotes. Errors name the file and line. env_file's
// `format: raw` takes lines as written.

import { readFile } from 'node:fs/promises';
import { invalid } from '../../errdefs.js';
import { InterpolationError, interpolateString, type Lookup } from './interpolate.js';

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Parses dotenv text. A bare `KEY` line (no `=`) takes KEY from `lookup` and is
 * left out when unset, as Compose does.
 */
export function parseDotenv(text: string, display: string, lookup: Lookup = () => undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const look: Lookup = (n) => (n in out ? out[n] : lookup(n));
  const src = text.replace(/\r\n?/g, '\n');
  const lines = src.split('\n');
  for (let li = 0; li < lines.length; li++) {
    const lineNo = li + 1;
    let line = lines[li]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trimStart();
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (!KEY.test(key)) throw invalid(`${display}:${lineNo}: unexpected character in variable name "${key}"`);
    if (eq < 0) {
      const v = lookup(key);
      if (v !== undefined) out[key] = v;
      continue;
    }
    let raw = line.slice(eq + 1).trimStart();
    const q = raw[0];
    if (q === "'" || q === '"') {
      // A quoted value may run over several lines until its closing quote.
      let body = raw.slice(1);
      let close = findClose(body, q);
      while (close < 0 && li + 1 < lines.length) {
        li++;
        body += '\n' + lines[li]!;
        close = findClose(body, q);
      }
      if (close < 0) throw invalid(`${display}:${lineNo}: unterminated quoted value for ${key}`);
      const inner = body.slice(0, close);
      out[key] = q === "'" ? inner : interp(unescape(inner), look, display, lineNo);
      continue;
    }
    const hash = raw.search(/\s#/);
    if (hash >= 0) raw = raw.slice(0, hash);
    out[key] = interp(raw.trim(), look, display, lineNo);
  }
  return out;
}

function findClose(body: string, q: string): number {
  for (let i = 0; i < body.length; i++) {
    if (q === '"' && body[i] === '\\') {
      i++;
      continue;
    }
    if (body[i] === q) return i;
  }
  return -1;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, (_m, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c as 'n'] ?? c);
}

function interp(s: string, lookup: Lookup, display: string, line: number): string {
  try {
    return interpolateString(s, lookup, () => undefined);
  } catch (err) {
    if (err instanceof InterpolationError) throw invalid(`${display}:${line}: ${err.message}`);
    throw err;
  }
}

/** env_file's `format: raw`: every KEY=VALUE line as written, no quotes, comments or interpolation beyond blank and # lines. */
export function parseRawEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) out[line.trim()] = '';
    else out[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return out;
}

export async function readDotenv(file: string, display: string, lookup?: Lookup, raw = false): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw invalid(`env file ${file} not found: no such file or directory`);
    if (code === 'EISDIR') throw invalid(`env file ${file} is a directory`);
    throw err;
  }
  return raw ? parseRawEnv(text) : parseDotenv(text, display, lookup);
}
