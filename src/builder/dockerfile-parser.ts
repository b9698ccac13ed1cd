// Dockerfile text → instructions with their line numbers. Handles the parser
// directives (escape, syntax), line continuations, comments (also between
// continued lines), heredocs (<<EOF, <<-EOF, <<'EOF') and --flag=value options.
// Semantics (what each instruction means) live in the builder, not here.
import { invalid } from '../errdefs.js';

export const INSTRUCTIONS = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
] as const;

export interface Heredoc {
  name: string;
  content: string;
  /** Unquoted terminators expand variables (the shell does it for RUN). */
  expand: boolean;
}

export interface Instruction {
  /** Upper-case keyword, e.g. 'RUN'. */
  cmd: string;
  /** Options before the arguments: --from=build → from: ['build'] (repeatable ones keep order). */
  flags: Map<string, string[]>;
  /** The argument text after the flags, continuations joined. */
  rest: string;
  /** Set when the arguments are a JSON array of strings (exec form). */
  json?: string[];
  heredocs: Heredoc[];
  /** 1-based first line and last line in the file. */
  line: number;
  endLine: number;
  /** The instruction as written (continuations joined), for history and step titles. */
  original: string;
}

export interface ParsedDockerfile {
  escape: string;
  syntax?: string;
  instructions: Instruction[];
}

const FLAG_TAKERS = new Set(['FROM', 'RUN', 'COPY', 'ADD', 'HEALTHCHECK']);

export function parseDockerfile(text: string, fileName = 'Dockerfile'): ParsedDockerfile {
  const lines = text.replace(/^\uFEFF/, '').split('\n').map((l) => l.replace(/\r$/, ''));
  const where = (n: number): string => `${fileName}:${n}`;
  let escape = '\\';
  let syntax: string | undefined;
  let i = 0;
  // Parser directives: only at the very top, before any comment, blank line or instruction.
  const seen = new Set<string>();
  for (; i < lines.length; i++) {
    const m = /^#\s*([A-Za-z]+)\s*=\s*(.*?)\s*$/.exec(lines[i]!);
    if (!m) break;
    const key = m[1]!.toLowerCase();
    if (key !== 'escape' && key !== 'syntax' && key !== 'check') break;
    if (seen.has(key)) throw invalid(`${where(i + 1)}: only one ${key} parser directive can be used`);
    seen.add(key);
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw invalid(`${where(i + 1)}: invalid escape token '${m[2]}' does not match ` + '` or \\');
      escape = m[2]!;
    } else if (key === 'syntax') syntax = m[2];
  }

  const instructions: Instruction[] = [];
  const isComment = (l: string): boolean => /^\s*#/.test(l);
  const continues = (l: string): boolean => {
    const t = l.replace(/\s+$/, '');
    return t.endsWith(escape) && !t.endsWith(escape + escape);
  };
  while (i < lines.length) {
    const first = lines[i]!;
    if (first.trim() === '' || isComment(first)) {
      i++;
      continue;
    }
    const startLine = i + 1;
    let logical = '';
    let cur = first;
    for (;;) {
      if (continues(cur)) {
        logical += cur.replace(/\s+$/, '').slice(0, -1);
        i++;
        // Comment and empty lines inside a continuation are dropped, as Docker does.
        while (i < lines.length && (isComment(lines[i]!) || lines[i]!.trim() === '')) i++;
        if (i >= lines.length) break;
        cur = lines[i]!;
      } else {
        logical += cur;
        i++;
        break;
      }
    }
    const m = /^\s*(\S+)\s*(.*)$/s.exec(logical);
    if (!m) continue;
    const keyword = m[1]!.toUpperCase();
    if (!(INSTRUCTIONS as readonly string[]).includes(keyword)) {
      throw invalid(`${where(startLine)}: unknown instruction: ${m[1]}`);
    }
    let rest = m[2]!.trim();
    const flags = new Map<string, string[]>();
    if (FLAG_TAKERS.has(keyword)) {
      for (;;) {
        const f = /^--([A-Za-z][A-Za-z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
        if (!f) break;
        const list = flags.get(f[1]!) ?? [];
        list.push(f[2] ?? 'true');
        flags.set(f[1]!, list);
        rest = rest.slice(f[0].length);
      }
    }
    const heredocs: Heredoc[] = [];
    if (['RUN', 'COPY', 'ADD'].includes(keyword) && !rest.startsWith('[')) {
      const re = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;
      let h: RegExpExecArray | null;
      while ((h = re.exec(rest))) {
        const strip = h[1] === '-';
        const name = h[3]!;
        const body: string[] = [];
        let closed = false;
        while (i < lines.length) {
          const l = strip ? lines[i]!.replace(/^\t+/, '') : lines[i]!;
          i++;
          if (l === name) {
            closed = true;
            break;
          }
          body.push(l);
        }
        if (!closed) throw invalid(`${where(startLine)}: heredoc <<${name} is not terminated (no line "${name}" before the end of the file)`);
        heredocs.push({ name, content: body.map((b) => b + '\n').join(''), expand: h[2] === '' });
      }
    }
    let json: string[] | undefined;
    if (rest.startsWith('[')) {
      try {
        const v = JSON.parse(rest) as unknown;
        if (Array.isArray(v) && v.every((x) => typeof x === 'string')) json = v as string[];
      } catch {
        json = undefined; // not JSON: Docker then treats it as shell form
      }
    }
    instructions.push({ cmd: keyword, flags, rest, json, heredocs, line: startLine, endLine: i, original: `${keyword} ${logical.trim().slice(m[1]!.length).trim()}`.trim() });
  }
  if (instructions.length === 0) throw invalid(`the Dockerfile (${fileName}) cannot be empty`);
  return { escape, syntax, instructions };
}

/** Flag value or undefined; refuses flags an instruction does not know. */
export function takeFlags(ins: Instruction, allowed: string[], fileName: string): Map<string, string[]> {
  for (const k of ins.flags.keys()) {
    if (!allowed.includes(k)) throw invalid(`${fileName}:${ins.line}: ${ins.cmd} does not take the flag --${k}`);
  }
  return ins.flags;
}
