// Variable interpolation as the Compose Specification defines it: $A, ${A},
// ${A:-x}, ${A-x}, ${A:?msg}, ${A?msg}, ${A:+x}, ${A+x}, $$ for a literal $,
// defaults that themselves hold ${...}. Values are interpolated, keys are not.
// A variable that is unset and has no default becomes '' with a warning, as
// Compose does; a required one fails with its message.

import { Override } from './yaml-source.js';

export type Lookup = (name: string) => string | undefined;

export class InterpolationError extends Error {}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const BRACED = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:-|-|:\?|\?|:\+|\+)([\s\S]*))?$/;

/** Substitutes one string; `warn` hears about unset variables without a default. */
export function interpolateString(s: string, lookup: Lookup, warn: (name: string) => void): string {
  if (!s.includes('$')) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(s, i + 2);
      if (end < 0) throw new InterpolationError(`invalid interpolation format for "${s}": a "\${" is never closed; write "$$" for a literal "$"`);
      out += braced(s.slice(i + 2, end), s, lookup, warn);
      i = end + 1;
      continue;
    }
    if (next !== undefined && NAME_START.test(next)) {
      let j = i + 1;
      while (j < s.length && NAME_CHAR.test(s[j]!)) j++;
      const name = s.slice(i + 1, j);
      const v = lookup(name);
      if (v === undefined) warn(name);
      out += v ?? '';
      i = j;
      continue;
    }
    throw new InterpolationError(`invalid interpolation format for "${s}": write "$$" for a literal "$"`);
  }
  return out;
}

function closingBrace(s: string, from: number): number {
  let depth = 1;
  for (let j = from; j < s.length; j++) {
    if (s[j] === '$' && s[j + 1] === '$') {
      j++;
      continue;
    }
    if (s[j] === '$' && s[j + 1] === '{') {
      depth++;
      j++;
      continue;
    }
    if (s[j] === '}' && --depth === 0) return j;
  }
  return -1;
}

function braced(body: string, whole: string, lookup: Lookup, warn: (name: string) => void): string {
  const m = BRACED.exec(body);
  if (!m) throw new InterpolationError(`invalid interpolation format for "${whole}": "\${${body}}" is not a variable reference`);
  const [, name, op, rest = ''] = m as unknown as [string, string, string | undefined, string | undefined];
  const v = lookup(name);
  const sub = (): string => interpolateString(rest, lookup, warn);
  switch (op) {
    case undefined:
      if (v === undefined) warn(name);
      return v ?? '';
    case ':-':
      return v === undefined || v === '' ? sub() : v;
    case '-':
      return v === undefined ? sub() : v;
    case ':?':
      if (v === undefined || v === '') throw requiredError(name, sub());
      return v;
    case '?':
      if (v === undefined) throw requiredError(name, sub());
      return v;
    case ':+':
      return v !== undefined && v !== '' ? sub() : '';
    default: // '+'
      return v !== undefined ? sub() : '';
  }
}

function requiredError(name: string, msg: string): InterpolationError {
  return new InterpolationError(`required variable ${name} is missing a value${msg ? `: ${msg}` : ''}`);
}

/**
 * Interpolates every string value of a parsed tree (keys untouched). `onError`
 * turns an error into one that names the path; `at` is the path of `value`.
 */
export function interpolateTree(
  value: unknown,
  at: string,
  lookup: Lookup,
  warn: (name: string) => void,
  onError: (at: string, msg: string) => Error,
): unknown {
  if (typeof value === 'string') {
    try {
      return interpolateString(value, lookup, warn);
    } catch (err) {
      if (err instanceof InterpolationError) throw onError(at, err.message);
      throw err;
    }
  }
  if (value instanceof Override) return new Override(interpolateTree(value.value, at, lookup, warn, onError));
  if (Array.isArray(value)) return value.map((v, i) => interpolateTree(v, `${at}[${i}]`, lookup, warn, onError));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateTree(v, at ? `${at}.${k}` : k, lookup, warn, onError);
    return out;
  }
  return value;
}
