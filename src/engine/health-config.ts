// A container's healthcheck settings: Docker's merge of the container's
// Healthcheck over the image's (field by field), its create-time checks, and
// the probe settings with Docker's defaults filled in.
import { invalid } from '../errdefs.js';

/** The API's Healthcheck object: Test plus durations in nanoseconds (0 = inherit/default). */
export interface HealthcheckConfig {
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface ProbeSettings {
  /** The exec's argv: CMD's arguments, or the shell with CMD-SHELL's string. */
  cmd: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
}

const nsPerMs = 1_000_000;
const durationFields = ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const;

/** daemon/commit.go merge(): the container's fields win, unset ones come from the image. */
export function mergeHealthcheck(user: HealthcheckConfig | undefined | null, image: HealthcheckConfig | undefined | null): HealthcheckConfig | undefined {
  if (!user) return image ?? undefined;
  if (!image) return user;
  const out: HealthcheckConfig = { ...user };
  if (!out.Test?.length) out.Test = image.Test;
  for (const f of durationFields) if (!out[f]) out[f] = image[f];
  if (!out.Retries) out.Retries = image.Retries;
  return out;
}

/** Docker's create-time checks, with its wording (durations below 1ms are refused). */
export function validateHealthcheck(hc: HealthcheckConfig | undefined): void {
  if (!hc) return;
  if (hc.Test !== undefined && hc.Test !== null && (!Array.isArray(hc.Test) || !hc.Test.every((x) => typeof x === 'string'))) {
    throw invalid('Healthcheck.Test must be an array of strings');
  }
  for (const f of durationFields) {
    const v = hc[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${f} in Healthcheck must be a duration in nanoseconds`);
    if (v !== 0 && v < nsPerMs) throw invalid(`${f} in Healthcheck cannot be less than 1ms`);
  }
  if (hc.Retries !== undefined && hc.Retries !== null && (!Number.isInteger(hc.Retries) || hc.Retries < 0)) {
    throw invalid('Retries in Healthcheck cannot be negative');
  }
}

/** The probe to run, or undefined when there is none (no Test, NONE, or a type Docker ignores too). */
export function probeSettings(hc: HealthcheckConfig | undefined, shell: string[] = ['/bin/sh', '-c']): ProbeSettings | undefined {
  const test = hc?.Test;
  if (!hc || !test?.length || test[0] === 'NONE') return undefined;
  let cmd: string[];
  if (test[0] === 'CMD') cmd = test.slice(1);
  else if (test[0] === 'CMD-SHELL') cmd = [...shell, test.slice(1).join(' ')];
  else return undefined;
  if (cmd.length === 0 || cmd[0] === '') return undefined;
  const ms = (ns: number | undefined, dflt: number): number => (ns && ns > 0 ? Math.max(1, Math.round(ns / nsPerMs)) : dflt);
  return {
    cmd,
    intervalMs: ms(hc.Interval, 30_000),
    timeoutMs: ms(hc.Timeout, 30_000),
    startPeriodMs: ms(hc.StartPeriod, 0),
    startIntervalMs: ms(hc.StartInterval, 5_000),
    retries: hc.Retries && hc.Retries > 0 ? hc.Retries : 3,
  };
}

/** Docker's timeout message prints a Go duration: 30s, 1.5s, 500ms. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m0s`;
  return `${ms / 1000}s`;
}
