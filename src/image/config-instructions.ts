// The Dockerfile instructions that only change an image's config (ENV, LABEL,
// CMD, ENTRYPOINT, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, HEALTHCHECK,
// ONBUILD, SHELL, MAINTAINER): one implementation of what each one does, for
// both readers of them: the builder (a Dockerfile line, with $variables) and
// `docker commit/import --change` (config-changes.ts, a line without them).
//
// What differs between the two is how an argument is read (quotes, variables,
// the legacy `ENV KEY value` form, JSON exec form) and how an error is worded;
// the caller supplies that as an InstructionDialect. The few places where the
// two have always behaved differently are named fields of the dialect, not
// hidden branches. Pure functions: nothing here touches disk.
import { posix } from 'node:path';
import type { TugError } from '../errdefs.js';
import type { OciContainerConfig } from '../oci/image-spec.js';

/** One instruction as a reader parsed it. The builder's Dockerfile instructions have this shape. */
export interface ConfigInstruction {
  /** Upper-case keyword, e.g. 'CMD'. */
  cmd: string;
  /** The argument text after any --flags. */
  rest: string;
  /** The arguments when written as a JSON array of strings (exec form). */
  json?: string[] | undefined;
  /** --flag=value options (HEALTHCHECK's in a Dockerfile). */
  flags: ReadonlyMap<string, readonly string[]>;
}

export interface InstructionDialect {
  /** An invalid-argument error in the caller's voice ("Dockerfile:3: …", "invalid change: …"). */
  fail(message: string): TugError;
  /** The argument as one word, and split into words (quotes removed; a Dockerfile expands $variables). */
  word(text: string): string;
  words(text: string): string[];
  /** ENV or LABEL (ins.cmd) as KEY/VALUE pairs, with the caller's legacy `KEY value` rules. */
  pairs(ins: ConfigInstruction): Array<[string, string]>;
  /** `text` in exec form (a JSON array of strings), or undefined when it is a shell command. */
  execForm(text: string, instr: string): string[] | undefined;
  /** Prefix of a shell-form CMD or ENTRYPOINT. */
  shell: readonly string[];
  /** A shell-form CMD sets ArgsEscaped (the builder does, as Docker's builder does). */
  markArgsEscaped: boolean;
  /** ENTRYPOINT keeps the current Cmd (a change line always does; a Dockerfile only a CMD of the same stage). */
  keepCmd: boolean;
  /** ENV rebuilds Env as one entry per key, dropping entries without a name (the builder); a change line replaces a key's first entry in place, as Docker's ENV does. */
  collapseEnv: boolean;
  /** EXPOSE refuses port 0, ports above 65535 and reversed ranges (a change line does; the builder never has). */
  checkPortRange: boolean;
  /** VOLUME refuses an empty list and blank paths (the builder); a change line refuses only empty paths. */
  strictVolumes: boolean;
  /** ONBUILD refuses ONBUILD, FROM and MAINTAINER triggers (the builder; a change line never has). */
  checkOnbuildTrigger: boolean;
  /** Follows `EXPOSE: invalid port "x"` in the message. */
  exposeHint: string;
  /** The message for a HEALTHCHECK that is neither NONE nor [OPTIONS] CMD …. */
  healthcheckUsage(rest: string): string;
}

const PORT_RE = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i;
const SIGNAL_RE = /^(SIG)?[A-Z0-9+-]+$/i;

/** Applies one config instruction to a copy of `cfg` and returns the copy. */
export function applyInstruction(cfg: OciContainerConfig, ins: ConfigInstruction, d: InstructionDialect): OciContainerConfig {
  const out: OciContainerConfig = structuredClone(cfg);
  switch (ins.cmd) {
    case 'ENV': {
      const pairs = d.pairs(ins);
      if (d.collapseEnv) {
        const env = envMap(out);
        for (const [k, v] of pairs) env.set(k, v);
        out.Env = [...env].map(([k, v]) => `${k}=${v}`);
      } else {
        for (const [k, v] of pairs) setEnv(out, k, v);
      }
      break;
    }
    case 'LABEL': {
      const labels = { ...(out.Labels ?? {}) };
      for (const [k, v] of d.pairs(ins)) labels[k] = v;
      out.Labels = labels;
      break;
    }
    case 'MAINTAINER':
      break; // the builder records it as the image author
    case 'CMD':
      out.Cmd = ins.json ?? [...d.shell, ins.rest];
      if (!ins.json && d.markArgsEscaped) out.ArgsEscaped = true;
      break;
    case 'ENTRYPOINT':
      out.Entrypoint = ins.json ?? [...d.shell, ins.rest];
      if (!d.keepCmd) out.Cmd = null;
      break;
    case 'EXPOSE': {
      const ports = { ...(out.ExposedPorts ?? {}) };
      for (const w of d.words(ins.rest)) for (const p of expandPort(w, d)) ports[p] = {};
      out.ExposedPorts = ports;
      break;
    }
    case 'USER': {
      const u = d.word(ins.rest);
      if (!u) throw d.fail('USER requires a user name or UID');
      out.User = u;
      break;
    }
    case 'WORKDIR':
      out.WorkingDir = posix.resolve(out.WorkingDir || '/', d.word(ins.rest));
      break;
    case 'VOLUME': {
      const vols = { ...(out.Volumes ?? {}) };
      const list = ins.json ?? d.words(ins.rest);
      if (d.strictVolumes && list.length === 0) throw d.fail('VOLUME requires at least one path');
      for (const v of list) {
        if (d.strictVolumes ? !v.trim() : v === '') throw d.fail('VOLUME specified can not be an empty string');
        vols[v] = {};
      }
      out.Volumes = vols;
      break;
    }
    case 'STOPSIGNAL': {
      const s = d.word(ins.rest);
      if (!SIGNAL_RE.test(s)) throw d.fail(`STOPSIGNAL: invalid signal ${JSON.stringify(s)}`);
      out.StopSignal = s;
      break;
    }
    case 'SHELL':
      if (!ins.json || ins.json.length === 0) throw d.fail('SHELL requires the arguments to be in JSON form, e.g. SHELL ["/bin/bash", "-c"]');
      out.Shell = ins.json;
      break;
    case 'HEALTHCHECK':
      out.Healthcheck = healthcheck(ins, d);
      break;
    case 'ONBUILD': {
      const trig = ins.rest.trim();
      const kw = trig.split(/\s+/, 1)[0]!.toUpperCase();
      if (d.checkOnbuildTrigger && (kw === 'ONBUILD' || kw === 'FROM' || kw === 'MAINTAINER')) throw d.fail(`${kw} isn't allowed as an ONBUILD trigger`);
      out.OnBuild = [...(out.OnBuild ?? []), trig];
      break;
    }
    default:
      throw d.fail(`${ins.cmd} is not a config instruction`);
  }
  return out;
}

/** Sets KEY in Env, in place of its first entry when there is one, as Docker's ENV does. */
function setEnv(c: OciContainerConfig, key: string, value: string): void {
  const env = [...(c.Env ?? [])];
  const i = env.findIndex((e) => e.split('=')[0] === key);
  if (i >= 0) env[i] = `${key}=${value}`;
  else env.push(`${key}=${value}`);
  c.Env = env;
}

/** Env as KEY → value; the last entry of a key wins, entries without a name are left out. */
export function envMap(cfg: OciContainerConfig): Map<string, string> {
  const m = new Map<string, string>();
  for (const kv of cfg.Env ?? []) {
    const eq = kv.indexOf('=');
    if (eq > 0) m.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return m;
}

/** 80, 80/udp, 8000-8010/tcp → each port/proto. */
function expandPort(spec: string, d: InstructionDialect): string[] {
  const m = PORT_RE.exec(spec);
  if (!m) throw d.fail(`EXPOSE: invalid port ${JSON.stringify(spec)}${d.exposeHint}`);
  const lo = Number(m[1]);
  const hi = m[2] !== undefined ? Number(m[2]) : lo;
  const proto = (m[3] ?? 'tcp').toLowerCase();
  if (d.checkPortRange && (lo < 1 || hi > 65535 || hi < lo)) throw d.fail(`EXPOSE: invalid port range ${JSON.stringify(spec)}`);
  const out: string[] = [];
  for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  return out;
}

function healthcheck(ins: ConfigInstruction, d: InstructionDialect): NonNullable<OciContainerConfig['Healthcheck']> {
  const rest = ins.rest.trim();
  if (/^NONE$/i.test(rest)) return { Test: ['NONE'] };
  const m = /^CMD\s+(.*)$/is.exec(rest);
  if (!m) throw d.fail(d.healthcheckUsage(rest));
  const cmd = m[1]!.trim();
  const exec = d.execForm(cmd, 'HEALTHCHECK');
  const hc: NonNullable<OciContainerConfig['Healthcheck']> = { Test: exec ? ['CMD', ...exec] : ['CMD-SHELL', cmd] };
  for (const [k, vals] of ins.flags) {
    const v = vals[vals.length - 1]!;
    if (k === 'interval') hc.Interval = parseDuration(v, d);
    else if (k === 'timeout') hc.Timeout = parseDuration(v, d);
    else if (k === 'start-period') hc.StartPeriod = parseDuration(v, d);
    else if (k === 'start-interval') hc.StartInterval = parseDuration(v, d);
    else if (k === 'retries') {
      if (!/^\d+$/.test(v)) throw d.fail(`HEALTHCHECK --retries must be a whole number, got ${v}`);
      hc.Retries = Number(v);
    } else throw d.fail(`HEALTHCHECK does not take the flag --${k}`);
  }
  return hc;
}

/** Go-style durations: 30s, 1m30s, 500ms → nanoseconds. */
function parseDuration(s: string, d: InstructionDialect): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * unit[m[2]!]!;
    consumed += m[0].length;
  }
  if (consumed !== s.length || !s) throw d.fail(`invalid duration ${JSON.stringify(s)}`);
  return Math.round(total);
}
