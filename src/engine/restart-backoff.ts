// Restart policy decisions and back-off, as Docker does: the delay doubles from
// 100 ms after each quick failure, capped at one minute, and resets once a
// container has stayed up for ten seconds.
import type { ContainerRecord } from './container-record.js';

export const initialBackoffMs = 100;
export const maxBackoffMs = 60_000;
const stableRunMs = 10_000;

export function shouldRestart(c: ContainerRecord, exitCode: number, daemonStarting = false): boolean {
  const p = c.HostConfig.RestartPolicy;
  if (c.HostConfig.AutoRemove) return false;
  switch (p.Name) {
    case 'always':
      return daemonStarting || !c.Tug.manuallyStopped;
    case 'unless-stopped':
      return !c.Tug.manuallyStopped;
    case 'on-failure':
      if (c.Tug.manuallyStopped || exitCode === 0) return false;
      return p.MaximumRetryCount === 0 || c.RestartCount < p.MaximumRetryCount;
    default:
      return false;
  }
}

export function nextBackoff(previousMs: number, ranForMs: number): number {
  if (ranForMs >= stableRunMs) return initialBackoffMs;
  return Math.min(previousMs * 2 || initialBackoffMs, maxBackoffMs);
}
