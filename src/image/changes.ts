// Dockerfile-like change lines applied to an image config, as `docker import
// --change` and `docker commit --change` take them: CMD, ENTRYPOINT, ENV,
// EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR, HEALTHCHECK.
import { posix } from 'node:path';
import { invalid } from '../errdefs.js';
import type { OciContainerConfig } from '../oci/image-spec.js';

const ALLOWED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

/** Applies each change in order to a copy of `config` and returns the copy. */
export function applyChanges(config: OciContainerConfig, changes: readonly string[]): OciContainerConfig {
  const c: OciContainerConfig = structuredClone(config);
  for (const raw of changes) {
    // One --change may carry several lines (docker-py sends them joined by '\n').
    for (const line of raw.split('\n')) {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      applyOne(c, trimmed);
    }
  }
  return c;
}

function applyOne(c: OciContainerConfig, line: string): void {
  const m = /^(\S+)\s*(.*)$/s.exec(line);
  const instr = (m?.[1] ?? '').toUpperCase();
  const rest = (m?.[2] ?? '').trim();
  if (!ALLOWED.includes(instr)) throw invalid(`invalid change: ${JSON.stringify(m?.[1] ?? line)} is not a valid change command (allowed: ${ALLOWED.join(', ')})`);
  if (rest === '' && instr !== 'CMD' && instr !== 'ENTRYPOINT') throw invalid(`invalid change: ${instr} requires at least one argument`);
  switch (instr) {
    case 'CMD':
      c.Cmd = commandForm(rest, instr);
      break;
    case 'ENTRYPOINT':
      c.Entrypoint = rest === '' ? null : commandForm(rest, instr);
      break;
    case 'ENV':
      for (const [k, v] of keyValues(rest, instr)) setEnv(c, k, v);
      break;
    case 'LABEL':
      c.Labels = { ...(c.Labels ?? {}) };
      for (const [k, v] of keyValues(rest, instr)) c.Labels[k] = v;
      break;
    case 'EXPOSE':
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
      for (const p of splitWords(rest)) for (const port of expandPort(p)) c.ExposedPorts[port] = {};
      break;
    case 'VOLUME': {
      const vols = rest.startsWith('[') ? jsonStrings(rest, instr) : splitWords(rest);
      c.Volumes = { ...(c.Volumes ?? {}) };
      for (const v of vols) {
        if (v === '') throw invalid('invalid change: VOLUME specified can not be an empty string');
        c.Volumes[v] = {};
      }
      break;
    }
    case 'USER':
      c.User = rest;
      break;
    case 'WORKDIR':
      c.WorkingDir = posix.resolve(c.WorkingDir || '/', rest);
      break;
    case 'STOPSIGNAL':
      if (!/^(SIG)?[A-Z0-9+-]+$/i.test(rest)) throw invalid(`invalid change: STOPSIGNAL: invalid signal ${JSON.stringify(rest)}`);
      c.StopSignal = rest;
      break;
    case 'ONBUILD':
      c.OnBuild = [...(c.OnBuild ?? []), rest];
      break;
    case 'HEALTHCHECK':
      c.Healthcheck = healthcheck(rest);
      break;
  }
}

function commandForm(rest: string, instr: string): string[] {
  if (rest.startsWith('[')) return jsonStrings(rest, instr);
  if (rest === '') return [];
  return ['/bin/sh', '-c', rest];
}

function jsonStrings(s: string, instr: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch {
    throw invalid(`invalid change: ${instr}: ${s} is not a valid JSON array`);
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw invalid(`invalid change: ${instr}: want a JSON array of strings, got ${s}`);
  return v as string[];
}

function setEnv(c: OciContainerConfig, key: string, value: string): void {
  const env = [...(c.Env ?? [])];
  const i = env.findIndex((e) => e.split('=')[0] === key);
  if (i >= 0) env[i] = `${key}=${value}`;
  else env.push(`${key}=${value}`);
  c.Env = env;
}

/** 'A=b C="d e"' or the legacy 'A b c' (one key, the rest is its value). */
function keyValues(rest: string, instr: string): Array<[string, string]> {
  const words = splitWords(rest);
  if (words.length > 0 && !words[0]!.includes('=')) {
    const m = /^(\S+)\s+(.*)$/s.exec(rest);
    if (!m) throw invalid(`invalid change: ${instr} ${rest}: want KEY=VALUE or KEY VALUE`);
    return [[m[1]!, m[2]!]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw invalid(`invalid change: ${instr}: ${JSON.stringify(w)} is not KEY=VALUE`);
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
  if (quote) throw invalid(`invalid change: unmatched ${quote} in ${JSON.stringify(s)}`);
  if (inWord) out.push(cur);
  return out;
}

function expandPort(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  if (!m) throw invalid(`invalid change: EXPOSE: invalid port ${JSON.stringify(spec)}`);
  const lo = Number(m[1]);
  const hi = m[2] !== undefined ? Number(m[2]) : lo;
  const proto = (m[3] ?? 'tcp').toLowerCase();
  if (lo < 1 || hi > 65535 || hi < lo) throw invalid(`invalid change: EXPOSE: invalid port range ${JSON.stringify(spec)}`);
  const out: string[] = [];
  for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  return out;
}

function healthcheck(rest: string): NonNullable<OciContainerConfig['Healthcheck']> {
  if (/^NONE$/i.test(rest)) return { Test: ['NONE'] };
  const m = /^CMD\s+(.*)$/is.exec(rest);
  if (!m) throw invalid(`invalid change: HEALTHCHECK: want NONE or CMD <command> (options are not supported here), got ${JSON.stringify(rest)}`);
  const cmd = m[1]!.trim();
  return { Test: cmd.startsWith('[') ? ['CMD', ...jsonStrings(cmd, 'HEALTHCHECK')] : ['CMD-SHELL', cmd] };
}
