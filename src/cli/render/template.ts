// A subset of Go's text/template, enough for docker's --format strings:
// {{.Field.Sub}}, {{json .}}, {{index .Map "k"}}, {{join .List ","}},
// {{if}}/{{else}}/{{range}}/{{with}}/{{end}}, pipelines with |, {{- trim -}},
// and docker's helpers (json, join, split, lower, upper, title, truncate, pad).
import { UsageError } from '../args.js';

type Node =
  | { t: 'text'; s: string }
  | { t: 'action'; p: Pipeline }
  | { t: 'if' | 'with'; p: Pipeline; then: Node[]; else: Node[] }
  | { t: 'range'; vars: string[]; p: Pipeline; body: Node[]; else: Node[] };

type Operand =
  | { k: 'field'; base: 'dot' | string; path: string[] }
  | { k: 'lit'; v: unknown }
  | { k: 'ident'; name: string }
  | { k: 'sub'; p: Pipeline };

type Command = Operand[];
interface Pipeline {
  decl?: string;
  cmds: Command[];
}

// ---- lexing ---------------------------------------------------------------

function splitActions(src: string): Array<{ text: string } | { action: string }> {
  const out: Array<{ text: string } | { action: string }> = [];
  let pos = 0;
  let trimNextText = false;
  while (pos < src.length) {
    const open = src.indexOf('{{', pos);
    let text = open < 0 ? src.slice(pos) : src.slice(pos, open);
    if (trimNextText) text = text.replace(/^\s+/, '');
    trimNextText = false;
    if (open < 0) {
      if (text) out.push({ text });
      break;
    }
    let inner = src.slice(open + 2);
    const close = findClose(inner);
    if (close < 0) throw new UsageError(`template parsing error: unclosed action`);
    inner = inner.slice(0, close);
    if (inner.startsWith('- ')) {
      text = text.replace(/\s+$/, '');
      inner = inner.slice(1);
    }
    if (inner.endsWith(' -')) {
      trimNextText = true;
      inner = inner.slice(0, -1);
    }
    if (text) out.push({ text });
    const trimmed = inner.trim();
    if (!trimmed.startsWith('/*')) out.push({ action: trimmed });
    pos = open + 2 + close + 2;
  }
  return out;
}

/** Index of the closing }} that is not inside a string literal. */
function findClose(s: string): number {
  let q: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q) {
      if (c === '\\' && q === '"') i++;
      else if (c === q) q = undefined;
    } else if (c === '"' || c === '`') q = c;
    else if (c === '}' && s[i + 1] === '}') return i;
  }
  return -1;
}

function tokenize(s: string): string[] {
  const toks: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      toks.push(s.slice(i, j + 1));
      i = j + 1;
    } else if (c === '`') {
      const j = s.indexOf('`', i + 1);
      toks.push(s.slice(i, j + 1));
      i = j + 1;
    } else if (c === '(' || c === ')' || c === '|' || c === ',') {
      toks.push(c);
      i++;
    } else if (c === ':' && s[i + 1] === '=') {
      toks.push(':=');
      i += 2;
    } else {
      let j = i;
      while (j < s.length && !/[\s()|,]/.test(s[j]!) && !(s[j] === ':' && s[j + 1] === '=')) j++;
      toks.push(s.slice(i, j));
      i = j;
    }
  }
  return toks;
}

// ---- parsing --------------------------------------------------------------

function parseOperand(tok: string): Operand {
  if (tok === '.') return { k: 'field', base: 'dot', path: [] };
  if (tok.startsWith('.')) return { k: 'field', base: 'dot', path: tok.slice(1).split('.') };
  if (tok.startsWith('$')) {
    const [v, ...path] = tok.split('.');
    return { k: 'field', base: v!, path };
  }
  if (tok.startsWith('"')) return { k: 'lit', v: JSON.parse(tok) };
  if (tok.startsWith('`')) return { k: 'lit', v: tok.slice(1, -1) };
  if (/^-?\d+(\.\d+)?$/.test(tok)) return { k: 'lit', v: Number(tok) };
  if (tok === 'true' || tok === 'false') return { k: 'lit', v: tok === 'true' };
  if (tok === 'nil') return { k: 'lit', v: null };
  return { k: 'ident', name: tok };
}

function parsePipeline(toks: string[]): Pipeline {
  let pos = 0;
  const p: Pipeline = { cmds: [] };
  if (toks.length >= 2 && toks[0]!.startsWith('$') && toks[1] === ':=') {
    p.decl = toks[0];
    pos = 2;
  }
  const parseCmds = (): Command[] => {
    const cmds: Command[] = [[]];
    while (pos < toks.length) {
      const t = toks[pos]!;
      if (t === ')') break;
      pos++;
      if (t === '|') cmds.push([]);
      else if (t === '(') {
        const inner = parseCmds();
        if (toks[pos] !== ')') throw new UsageError('template parsing error: unclosed left paren');
        pos++;
        cmds[cmds.length - 1]!.push({ k: 'sub', p: { cmds: inner } });
      } else cmds[cmds.length - 1]!.push(parseOperand(t));
    }
    if (cmds.some((c) => c.length === 0)) throw new UsageError('template parsing error: missing value for command');
    return cmds;
  };
  p.cmds = parseCmds();
  return p;
}

function parseNodes(parts: ReturnType<typeof splitActions>, pos: { i: number }, stopAt: string[]): { nodes: Node[]; stop: string } {
  const nodes: Node[] = [];
  while (pos.i < parts.length) {
    const part = parts[pos.i++]!;
    if ('text' in part) {
      nodes.push({ t: 'text', s: part.text });
      continue;
    }
    const toks = tokenize(part.action);
    const head = toks[0];
    if (head && stopAt.includes(head)) return { nodes, stop: part.action };
    if (head === 'if' || head === 'with') {
      nodes.push(parseBlock(head, parsePipeline(toks.slice(1)), parts, pos));
    } else if (head === 'range') {
      const rest = toks.slice(1);
      const vars: string[] = [];
      const declAt = rest.indexOf(':=');
      if (declAt > 0) {
        for (const v of rest.slice(0, declAt)) if (v !== ',') vars.push(v);
        rest.splice(0, declAt + 1);
      }
      const blk = parseBlock('range', parsePipeline(rest), parts, pos);
      nodes.push({ t: 'range', vars, p: blk.p, body: blk.then, else: blk.else });
    } else if (head === 'end' || head === 'else') {
      throw new UsageError(`template parsing error: unexpected {{${head}}}`);
    } else nodes.push({ t: 'action', p: parsePipeline(toks) });
  }
  if (stopAt.length) throw new UsageError('template parsing error: unexpected EOF');
  return { nodes, stop: '' };
}

function parseBlock(kind: 'if' | 'with' | 'range', p: Pipeline, parts: ReturnType<typeof splitActions>, pos: { i: number }) {
  const body = parseNodes(parts, pos, ['end', 'else']);
  const node = { t: kind, p, then: body.nodes, else: [] as Node[] } as { t: 'if' | 'with'; p: Pipeline; then: Node[]; else: Node[] };
  if (body.stop.startsWith('else')) {
    const rest = tokenize(body.stop).slice(1);
    if (rest[0] === 'if' || rest[0] === 'with') {
      // {{else if x}} is sugar for {{else}}{{if x}}…{{end}} sharing the outer {{end}}.
      node.else = [parseBlock(rest[0], parsePipeline(rest.slice(1)), parts, pos)];
    } else node.else = parseNodes(parts, pos, ['end']).nodes;
  }
  return node;
}

// ---- evaluation -----------------------------------------------------------

type Fn = (...args: any[]) => unknown;

/** Go's fmt %v for decoded JSON values. */
export function goFormat(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof (o as { toString?: unknown }).toString === 'function' && o.toString !== Object.prototype.toString) return String(o);
    return `map[${Object.keys(o)
      .sort()
      .map((k) => `${k}:${goFormat(o[k])}`)
      .join(' ')}]`;
  }
  if (typeof v === 'number' && Math.abs(v) >= 1e21) return v.toExponential().replace('e+', 'e+');
  return String(v);
}

/** json.Marshal: compact, with Go's HTML escaping. */
export function goJson(v: unknown): string {
  return (JSON.stringify(sortKeys(v === undefined ? null : v)) ?? 'null').replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

/** Go marshals maps with sorted keys; decoded JSON objects are maps to a template. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sortKeys(o[k])]),
    );
  }
  return v;
}

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

const builtins: Record<string, Fn> = {
  json: (v) => goJson(v),
  join: (list: unknown, sep: string) => (Array.isArray(list) ? list.map(goFormat).join(sep) : goFormat(list)),
  split: (s: string, sep: string) => String(s).split(sep),
  lower: (s) => goFormat(s).toLowerCase(),
  upper: (s) => goFormat(s).toUpperCase(),
  title: (s) => goFormat(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  truncate: (s, n: number) => goFormat(s).slice(0, n),
  pad: (s, l: number, r: number) => `${' '.repeat(l)}${goFormat(s)}${' '.repeat(r)}`,
  len: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0),
  index: (v: any, ...keys: unknown[]) => keys.reduce((acc: any, k) => (acc == null ? undefined : acc[k as string]), v),
  print: (...a) => a.map(goFormat).join(''),
  println: (...a) => `${a.map(goFormat).join(' ')}\n`,
  printf: (fmt: string, ...a) => sprintf(fmt, a),
  eq: (a, ...b) => b.some((x) => x === a),
  ne: (a, b) => a !== b,
  lt: (a: any, b: any) => a < b,
  le: (a: any, b: any) => a <= b,
  gt: (a: any, b: any) => a > b,
  ge: (a: any, b: any) => a >= b,
  not: (a) => !truthy(a),
  and: (...a) => a.find((x) => !truthy(x)) ?? a[a.length - 1],
  or: (...a) => a.find((x) => truthy(x)) ?? a[a.length - 1],
};

function sprintf(fmt: string, args: unknown[]): string {
  let i = 0;
  return fmt.replace(/%([-+ 0#]*)(\d*)(?:\.(\d+))?([svdqtfx%])/g, (_m, _flags: string, width: string, prec: string, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    let s: string;
    if (verb === 'q') s = JSON.stringify(goFormat(a));
    else if (verb === 'f') s = Number(a).toFixed(prec ? Number(prec) : 6);
    else if (verb === 'x') s = typeof a === 'number' ? a.toString(16) : Buffer.from(goFormat(a)).toString('hex');
    else s = goFormat(a);
    const w = Number(width || 0);
    return _flags.includes('-') ? s.padEnd(w) : s.padStart(w);
  });
}

interface Scope {
  dot: unknown;
  vars: Map<string, unknown>;
}

function field(v: unknown, name: string): unknown {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'object') throw new UsageError(`template: can't evaluate field ${name} in type ${typeof v}`);
  const o = v as Record<string, unknown>;
  const got = o[name];
  return typeof got === 'function' ? (got as () => unknown).call(o) : got;
}

function evalOperand(op: Operand, sc: Scope, fns: Record<string, Fn>): unknown {
  switch (op.k) {
    case 'lit':
      return op.v;
    case 'sub':
      return evalPipeline(op.p, sc, fns);
    case 'field': {
      let v = op.base === 'dot' ? sc.dot : sc.vars.get(op.base);
      if (op.base !== 'dot' && !sc.vars.has(op.base)) throw new UsageError(`template: undefined variable "${op.base}"`);
      for (const p of op.path) v = field(v, p);
      return v;
    }
    case 'ident':
      throw new UsageError(`template: "${op.name}" is not a value`);
  }
}

function evalCommand(cmd: Command, sc: Scope, fns: Record<string, Fn>, piped: unknown[]): unknown {
  const [first, ...rest] = cmd;
  if (first!.k === 'ident') {
    const fn = fns[first!.name];
    if (!fn) throw new UsageError(`template: function "${first!.name}" not defined`);
    return fn(...rest.map((o) => evalOperand(o, sc, fns)), ...piped);
  }
  if (rest.length || piped.length) throw new UsageError('template: can\'t give argument to non-function');
  return evalOperand(first!, sc, fns);
}

function evalPipeline(p: Pipeline, sc: Scope, fns: Record<string, Fn>): unknown {
  let v: unknown;
  p.cmds.forEach((c, i) => {
    v = evalCommand(c, sc, fns, i === 0 ? [] : [v]);
  });
  if (p.decl) sc.vars.set(p.decl, v);
  return v;
}

function exec(nodes: Node[], sc: Scope, fns: Record<string, Fn>, out: string[]): void {
  for (const n of nodes) {
    if (n.t === 'text') out.push(n.s);
    else if (n.t === 'action') {
      const v = evalPipeline(n.p, sc, fns);
      if (!n.p.decl) out.push(goFormat(v));
    } else if (n.t === 'if') {
      exec(truthy(evalPipeline(n.p, sc, fns)) ? n.then : n.else, sc, fns, out);
    } else if (n.t === 'with') {
      const v = evalPipeline(n.p, sc, fns);
      if (truthy(v)) exec(n.then, { dot: v, vars: sc.vars }, fns, out);
      else exec(n.else, sc, fns, out);
    } else if (n.t === 'range') {
      const v = evalPipeline(n.p, sc, fns);
      const entries: Array<[unknown, unknown]> = Array.isArray(v)
        ? v.map((x, i) => [i, x])
        : v && typeof v === 'object'
          ? Object.keys(v)
              .sort()
              .map((k) => [k, (v as Record<string, unknown>)[k]])
          : [];
      if (!entries.length) exec(n.else, sc, fns, out);
      for (const [k, x] of entries) {
        const vars = new Map(sc.vars);
        if (n.vars.length === 1) vars.set(n.vars[0]!, x);
        if (n.vars.length === 2) {
          vars.set(n.vars[0]!, k);
          vars.set(n.vars[1]!, x);
        }
        exec(n.body, { dot: x, vars }, fns, out);
      }
    }
  }
}

export interface Template {
  execute(data: unknown): string;
}

/** Parses once; execute() may run per row. `\t` and `\n` escapes become real characters, as in docker. */
export function compileTemplate(src: string, extraFns: Record<string, Fn> = {}): Template {
  const text = src.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const nodes = parseNodes(splitActions(text), { i: 0 }, []).nodes;
  const fns = { ...builtins, ...extraFns };
  return {
    execute(data: unknown): string {
      const out: string[] = [];
      exec(nodes, { dot: data, vars: new Map([['$', data]]) }, fns, out);
      return out.join('');
    },
  };
}
