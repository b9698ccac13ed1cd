// The instructions that only change the image config (ENV, LABEL, CMD,
// ENTRYPOINT, EXPOSE, USER, VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL, ONBUILD,
// MAINTAINER): pure functions from (config, instruction, variables) to config.
import { invalid } from '../errdefs.js';
import type { OciContainerConfig } from '../oci/image-spec.js';
import type { Instruction } from './dockerfile-parser.js';
import { parseKeyValues, processWord, processWords, type Vars } from './shell-words.js';

export interface ConfigContext {
  vars: Vars;
  escape: string;
  where: string;
  shell: string[];
  /** Whether CMD was set in this stage (ENTRYPOINT then keeps it). */
  cmdSetHere: boolean;
}

export function envList(cfg: OciContainerConfig): Map<string, string> {
  const m = new Map<string, string>();
  for (const kv of cfg.Env ?? []) {
    const eq = kv.indexOf('=');
    if (eq > 0) m.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return m;
}

/** ENV KEY=VALUE… or the legacy ENV KEY value with spaces. */
export function parseEnvPairs(ins: Instruction, vars: Vars, escape: string, where: string): Array<[string, string]> {
  const first = ins.rest.split(/\s+/, 1)[0] ?? '';
  if (!ins.rest.trim()) throw invalid(`${where}: ENV requires at least one argument`);
  if (!first.includes('=')) {
    const value = ins.rest.slice(first.length).trim();
    if (!value) throw invalid(`${where}: ENV ${first} needs a value (ENV KEY=VALUE or ENV KEY VALUE)`);
    return [[first, processWord(value, vars, escape)]];
  }
  return parseKeyValues(ins.rest, vars, escape, 'ENV', where);
}

function argvOf(ins: Instruction, shell: string[]): string[] {
  if (ins.json) return ins.json;
  return [...shell, ins.rest];
}

/** Go-style durations: 30s, 1m30s, 500ms → nanoseconds. */
export function parseDuration(s: string, where: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * unit[m[2]!]!;
    consumed += m[0].length;
  }
  if (consumed !== s.length || !s) throw invalid(`${where}: invalid duration ${JSON.stringify(s)}`);
  return Math.round(total);
}

export function applyConfigInstruction(cfg: OciContainerConfig, ins: Instruction, ctx: ConfigContext): OciContainerConfig {
  const out: OciContainerConfig = structuredClone(cfg);
  const { vars, escape, where } = ctx;
  switch (ins.cmd) {
    case 'ENV': {
      const env = envList(out);
      for (const [k, v] of parseEnvPairs(ins, vars, escape, where)) env.set(k, v);
      out.Env = [...env].map(([k, v]) => `${k}=${v}`);
      break;
    }
    case 'LABEL': {
      const labels = { ...(out.Labels ?? {}) };
      for (const [k, v] of parseKeyValues(ins.rest, vars, escape, 'LABEL', where)) labels[k] = v;
      out.Labels = labels;
      break;
    }
    case 'MAINTAINER':
      break; // recorded as the image author by the caller
    case 'CMD':
      out.Cmd = argvOf(ins, ctx.shell);
      if (!ins.json) out.ArgsEscaped = true;
      break;
    case 'ENTRYPOINT':
      out.Entrypoint = argvOf(ins, ctx.shell);
      if (!ctx.cmdSetHere) out.Cmd = null;
      break;
    case 'EXPOSE': {
      const ports = { ...(out.ExposedPorts ?? {}) };
      for (const w of processWords(ins.rest, vars, escape)) {
        const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(w);
        if (!m) throw invalid(`${where}: EXPOSE: invalid port ${JSON.stringify(w)} (want PORT, PORT/tcp or PORT/udp)`);
        const lo = Number(m[1]);
        const hi = m[2] ? Number(m[2]) : lo;
        for (let p = lo; p <= hi; p++) ports[`${p}/${(m[3] ?? 'tcp').toLowerCase()}`] = {};
      }
      out.ExposedPorts = ports;
      break;
    }
    case 'USER': {
      const u = processWord(ins.rest, vars, escape);
      if (!u) throw invalid(`${where}: USER requires a user name or UID`);
      out.User = u;
      break;
    }
    case 'VOLUME': {
      const vols = { ...(out.Volumes ?? {}) };
      const list = ins.json ?? processWords(ins.rest, vars, escape);
      if (list.length === 0) throw invalid(`${where}: VOLUME requires at least one path`);
      for (const v of list) {
        if (!v.trim()) throw invalid(`${where}: VOLUME specified can not be an empty string`);
        vols[v] = {};
      }
      out.Volumes = vols;
      break;
    }
    case 'STOPSIGNAL': {
      const s = processWord(ins.rest, vars, escape);
      if (!/^(SIG)?[A-Z0-9+-]+$/i.test(s)) throw invalid(`${where}: STOPSIGNAL: invalid signal ${JSON.stringify(s)}`);
      out.StopSignal = s;
      break;
    }
    case 'SHELL':
      if (!ins.json || ins.json.length === 0) throw invalid(`${where}: SHELL requires the arguments to be in JSON form, e.g. SHELL ["/bin/bash", "-c"]`);
      out.Shell = ins.json;
      break;
    case 'HEALTHCHECK': {
      const rest = ins.rest.trim();
      if (/^NONE$/i.test(rest)) {
        out.Healthcheck = { Test: ['NONE'] };
        break;
      }
      const m = /^CMD\s+(.*)$/is.exec(rest);
      if (!m) throw invalid(`${where}: HEALTHCHECK must be NONE or [OPTIONS] CMD command`);
      const cmdText = m[1]!.trim();
      let test: string[];
      try {
        const j = JSON.parse(cmdText) as unknown;
        test = Array.isArray(j) ? ['CMD', ...(j as string[])] : ['CMD-SHELL', cmdText];
      } catch {
        test = ['CMD-SHELL', cmdText];
      }
      const hc: NonNullable<OciContainerConfig['Healthcheck']> = { Test: test };
      for (const [k, vals] of ins.flags) {
        const v = vals[vals.length - 1]!;
        if (k === 'interval') hc.Interval = parseDuration(v, where);
        else if (k === 'timeout') hc.Timeout = parseDuration(v, where);
        else if (k === 'start-period') hc.StartPeriod = parseDuration(v, where);
        else if (k === 'start-interval') hc.StartInterval = parseDuration(v, where);
        else if (k === 'retries') {
          if (!/^\d+$/.test(v)) throw invalid(`${where}: HEALTHCHECK --retries must be a whole number, got ${v}`);
          hc.Retries = Number(v);
        } else throw invalid(`${where}: HEALTHCHECK does not take the flag --${k}`);
      }
      out.Healthcheck = hc;
      break;
    }
    case 'ONBUILD': {
      const trig = ins.rest.trim();
      const kw = trig.split(/\s+/, 1)[0]!.toUpperCase();
      if (kw === 'ONBUILD' || kw === 'FROM' || kw === 'MAINTAINER') throw invalid(`${where}: ${kw} isn't allowed as an ONBUILD trigger`);
      out.OnBuild = [...(out.OnBuild ?? []), trig];
      break;
    }
    default:
      throw invalid(`${where}: ${ins.cmd} is not a config instruction`);
  }
  return out;
}
