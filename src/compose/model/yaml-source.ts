// Reads one Compose file into plain data plus a map from each key's path to
// its line, so every later error can point at "compose.yaml:7". The YAML
// package parses; this file walks its node tree itself (instead of toJS) to
// record lines, follow aliases and `<<` merge keys, read `0440` as octal as
// Compose's Go YAML reader does, and keep the `!reset` / `!override` tags the
// merge rules honour.

import * as path from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type ScalarTag } from 'yaml';
import { invalid } from '../../errdefs.js';

/** A value tagged `!reset` in an override file: the merge removes the key. */
export const RESET = Symbol('compose-reset');
/** A value tagged `!override`: the merge replaces instead of merging. */
export class Override {
  constructor(readonly value: unknown) {}
}

export interface SourceFile {
  /** Absolute path ('-' reads stdin and gets the working directory's name). */
  path: string;
  /** How errors name the file: relative to the working directory when inside it. */
  display: string;
  /** Key path ('services.web.ports[0]') to its 1-based line. */
  lines: Map<string, number>;
  data: Record<string, unknown>;
}

// Go's YAML reader takes a leading-zero integer as octal (file modes: 0440).
const octalInt: ScalarTag = {
  tag: 'tag:yaml.org,2002:int',
  default: true,
  test: /^0[0-7]+$/,
  resolve: (s: string) => parseInt(s, 8),
};
const resetTag: ScalarTag = { tag: '!reset', resolve: () => null };

export function displayName(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

export function parseComposeYaml(text: string, file: string, cwd: string, display = displayName(file, cwd)): SourceFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lc,
    merge: false,
    uniqueKeys: true,
    customTags: (tags) => [octalInt, resetTag, ...tags],
  });
  const firstErr = doc.errors[0];
  if (firstErr) {
    const line = firstErr.linePos?.[0]?.line;
    const msg = firstErr.message.split('\n')[0];
    throw invalid(`${display}${line ? `:${line}` : ''}: yaml: ${msg}`);
  }
  const lines = new Map<string, number>();
  const data = walk(doc.contents as Node | null, '', { doc, lc, lines, inAlias: false });
  if (data === null || data === undefined) return { path: file, display, lines, data: {} };
  if (typeof data !== 'object' || Array.isArray(data)) throw invalid(`${display}:1: top-level object must be a mapping`);
  return { path: file, display, lines, data: data as Record<string, unknown> };
}

interface WalkCtx {
  doc: Document;
  lc: LineCounter;
  lines: Map<string, number>;
  inAlias: boolean;
}

function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

function lineOf(node: Node | null | undefined, ctx: WalkCtx): number | undefined {
  const start = node?.range?.[0];
  return start === undefined ? undefined : ctx.lc.linePos(start).line;
}

function walk(node: Node | null | undefined, at: string, ctx: WalkCtx): unknown {
  if (node === null || node === undefined) return null;
  if (isAlias(node)) {
    const target = node.resolve(ctx.doc);
    return walk(target as Node | undefined, at, { ...ctx, inAlias: true });
  }
  const tagged = (v: unknown): unknown => (node.tag === '!override' ? new Override(v) : node.tag === '!reset' ? RESET : v);
  if (isScalar(node)) return tagged(node.value);
  if (isSeq(node)) {
    return tagged(
      node.items.map((item, i) => {
        const p = childPath(at, i);
        const line = lineOf(item as Node, ctx);
        if (!ctx.inAlias && line !== undefined) ctx.lines.set(p, line);
        return walk(item as Node, p, ctx);
      }),
    );
  }
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    const merged: Record<string, unknown>[] = [];
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? keyNode.value : null;
      if (key === null || typeof key === 'object') {
        throw invalid(`${at || 'top level'}: a mapping key must be a string (line ${lineOf(keyNode, ctx) ?? '?'})`);
      }
      const name = String(key);
      if (name === '<<' && isScalar(keyNode) && keyNode.type === 'PLAIN') {
        const v = walk(pair.value as Node, at, { ...ctx, inAlias: true });
        for (const m of Array.isArray(v) ? v : [v]) {
          if (m && typeof m === 'object' && !Array.isArray(m)) merged.push(m as Record<string, unknown>);
        }
        continue;
      }
      const p = childPath(at, name);
      const line = lineOf(keyNode, ctx);
      if (!ctx.inAlias && line !== undefined) ctx.lines.set(p, line);
      out[name] = walk(pair.value as Node, p, ctx);
    }
    // Explicit keys win over `<<` ones; earlier merge sources win over later ones.
    for (const m of merged) for (const [k, v] of Object.entries(m)) if (!(k in out)) out[k] = v;
    return tagged(out);
  }
  return null;
}

/** The line of a path, or of its nearest ancestor that has one. */
export function lineFor(src: SourceFile | undefined, at: string): number | undefined {
  if (!src) return undefined;
  let p = at;
  for (;;) {
    const line = src.lines.get(p);
    if (line !== undefined) return line;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) return undefined;
    p = p.slice(0, cut);
  }
}

/** "compose.yaml:7: <msg>", the line being that of `at` (or its nearest ancestor). */
export function errorAt(src: SourceFile | undefined, at: string, msg: string): Error {
  const line = lineFor(src, at);
  const where = src ? `${src.display}${line !== undefined ? `:${line}` : ''}: ` : '';
  return invalid(`${where}${msg}`);
}

/** "compose.yaml:7: <path>: <msg>" (path omitted when empty). */
export function sourceError(src: SourceFile | undefined, at: string, msg: string): Error {
  return errorAt(src, at, `${at ? `${at}: ` : ''}${msg}`);
}

/** errorAt over several files that each set part of one service: the latest that has the exact path, else the first. */
export function errorAtAny(srcs: SourceFile[], at: string, msg: string): Error {
  const exact = [...srcs].reverse().find((s) => s.lines.has(at));
  return errorAt(exact ?? srcs[0], at, msg);
}
