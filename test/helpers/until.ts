// Polling for a condition in tests: every wait in a test names what it waits
// for, so a run that gives up says which step never happened.

export interface UntilOptions {
  /** How many times fn is asked (default 240). */
  tries?: number;
  /** Pause between tries (default 250 ms). */
  everyMs?: number;
  /** A try that throws counts as not yet (a server restarting, a node coming back). */
  ignoreErrors?: boolean;
  /** Appended to the error when it gives up: the daemon's output, say. */
  context?: () => string;
}

/** fn's first truthy answer; throws "gave up waiting for <what>" after the last try. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, o: UntilOptions = {}): Promise<T> {
  const { tries = 240, everyMs = 250, ignoreErrors = false, context } = o;
  for (let i = 0; i < tries; i++) {
    const v = ignoreErrors ? await fn().catch(() => undefined) : await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  const more = context?.();
  throw new Error(`gave up waiting for ${what}${more ? `\n${more}` : ''}`);
}
