// `tug run/create --health-*` and `--no-healthcheck` → the create body's
// Config.Healthcheck, as docker's cli/command/container/opts.go builds it.
import type { Opts } from '../args.js';
import { UsageError } from '../args.js';
import { parseGoDuration } from '../render/units.js';

export const HEALTH_FLAGS = [
  ['string:health-cmd', 'Command to run to check health'],
  ['string:health-interval:duration', 'Time between running the check (ms|s|m|h) (default 0s)'],
  ['string:health-timeout:duration', 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)'],
  ['string:health-start-period:duration', 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)'],
  ['string:health-start-interval:duration', 'Time between running the check during the start period (ms|s|m|h) (default 0s)'],
  ['string:health-retries:int', 'Consecutive failures needed to report unhealthy'],
  ['bool:no-healthcheck', 'Disable any container-specified HEALTHCHECK'],
] as const;

/** Nanoseconds from a Go duration flag; undefined when the flag is absent. */
function durationNs(o: Opts, name: string): number | undefined {
  const v = o.str(name);
  if (v === undefined) return undefined;
  // Go parses a leading minus; docker then refuses it as negative (below).
  const ms = v.startsWith('-') ? -(parseGoDuration(v.slice(1)) ?? NaN) : parseGoDuration(v);
  if (ms === undefined || Number.isNaN(ms)) throw new UsageError(`invalid argument "${v}" for "--${name}" flag: time: invalid duration "${v}"`);
  return Math.round(ms * 1_000_000);
}

export function healthcheckFromFlags(o: Opts): Record<string, unknown> | undefined {
  const cmd = o.str('health-cmd');
  const interval = durationNs(o, 'health-interval');
  const timeout = durationNs(o, 'health-timeout');
  const startPeriod = durationNs(o, 'health-start-period');
  const startInterval = durationNs(o, 'health-start-interval');
  const retriesText = o.str('health-retries');
  const retries = retriesText === undefined ? undefined : Number(retriesText);
  if (retries !== undefined && !Number.isInteger(retries)) throw new UsageError(`invalid argument "${retriesText}" for "--health-retries" flag: strconv.ParseInt: parsing "${retriesText}": invalid syntax`);
  const any = cmd !== undefined || interval !== undefined || timeout !== undefined || startPeriod !== undefined || startInterval !== undefined || retries !== undefined;
  if (o.bool('no-healthcheck')) {
    if (any) throw new UsageError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  for (const [flag, v] of [['health-interval', interval], ['health-timeout', timeout], ['health-start-period', startPeriod], ['health-start-interval', startInterval], ['health-retries', retries]] as const) {
    if (v !== undefined && v < 0) throw new UsageError(`--${flag} cannot be negative`);
  }
  return {
    ...(cmd ? { Test: ['CMD-SHELL', cmd] } : {}),
    Interval: interval ?? 0,
    Timeout: timeout ?? 0,
    StartPeriod: startPeriod ?? 0,
    StartInterval: startInterval ?? 0,
    Retries: retries ?? 0,
  };
}
