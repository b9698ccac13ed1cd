// `docker import --change` and `docker commit --change`: Dockerfile-like lines
// (CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER,
// VOLUME, WORKDIR) applied to an image config.
//
// This file only reads a change line: which instructions are allowed, how its
// words split (quotes, backslashes; no variables, no --flags) and how its
// errors read. What each instruction does is config-instructions.ts, shared
// with the builder. Pure: nothing here touches disk.
import { invalid, type TugError } from '../errdefs.js';
import type { OciContainerConfig } from '../oci/image-spec.js';
import { applyInstruction, type ConfigInstruction, type InstructionDialect } from './config-instructions.js';

const ALLOWED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];
/** Instructions whose argument may be a JSON array (exec form). */
const EXEC_FORM = new Set(['CMD', 'ENTRYPOINT', 'VOLUME']);
const NO_FLAGS: ReadonlyMap<string, readonly string[]> = new Map();

const fail = (message: string): TugError => invalid(`invalid change: ${message}`);

const CHANGE_DIALECT: InstructionDialect = {
  fail,
  word: (text) => text,
  words: splitWords,
  pairs: (ins) => keyValues(ins.rest, ins.cmd),
  execForm: (text, instr) => (text.startsWith('[') ? jsonStrings(text, instr) : undefined),
  shell: ['/bin/sh', '-c'],
  markArgsEscaped: false,
  keepCmd: true,
  collapseEnv: false,
  checkPortRange: true,
  strictVolumes: false,
  checkOnbuildTrigger: false,
  exposeHint: '',
  healthcheckUsage: (rest) => `HEALTHCHECK: want NONE or CMD <command> (options are not supported here), got ${JSON.stringify(rest)}`,
};

/** Applies each change in order to a copy of `config` and returns the copy. */
export function applyChanges(config: OciContainerConfig, changes: readonly string[]): OciContainerConfig {
  let c: OciContainerConfig = structuredClone(config);
  for (const raw of changes) {
    // One --change may carry several lines (docker-py sends them joined by '\n').
    for (const line of raw.split('\n')) {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      c = applyOne(c, trimmed);
    }
  }
  return c;
}

function applyOne(c: OciContainerConfig, line: string): OciContainerConfig {
  const m = /^(\S+)\s*(.*)$/s.exec(line);
  const instr = (m?.[1] ?? '').toUpperCase();
  const rest = (m?.[2] ?? '').trim();
  if (!ALLOWED.includes(instr)) throw fail(`${JSON.stringify(m?.[1] ?? line)} is not a valid change command (allowed: ${ALLOWED.join(', ')})`);
  if (rest === '') {
    // A bare CMD empties the command and a bare ENTRYPOINT clears it; anything else needs an argument.
    if (instr === 'CMD') return { ...c, Cmd: [] };
    if (instr === 'ENTRYPOINT') return { ...c, Entrypoint: null };
    throw fail(`${instr} requires at least one argument`);
  }
  const ins: ConfigInstruction = { cmd: instr, rest, json: EXEC_FORM.has(instr) ? CHANGE_DIALECT.execForm(rest, instr) : undefined, flags: NO_FLAGS };
  return applyInstruction(c, ins, CHANGE_DIALECT);
}

function jsonStrings(s: string, instr: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch {
    throw fail(`${instr}: ${s} is not a valid JSON array`);
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw fail(`${instr}: want a JSON array of strings, got ${s}`);
  return v as string[];
}

/** 'A=b C="d e"' or the legacy 'A b c' (one key, the rest is its value). */
function keyValues(rest: string, instr: string): Array<[string, string]> {
  const words = splitWords(rest);
  if (words.length > 0 && !words[0]!.includes('=')) {
    const m = /^(\S+)\s+(.*)$/s.exec(rest);
    if (!m) throw fail(`${instr} ${rest}: want KEY=VALUE or KEY VALUE`);
    return [[m[1]!, m[2]!]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw fail(`${instr}: ${JSON.stringify(w)} is not KEY=VALUE`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** Splits on unquoted whitespace; double/single quotes group and are removed, backslash escapes. */
function splitWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw fail(`unmatched ${quote} in ${JSON.stringify(s)}`);
  if (inWord) out.push(cur);
  return out;
}
