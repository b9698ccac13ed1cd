// One interactive session over a hijacked connection, shared by run, start -a,
// attach and exec: output to the local stdout/stderr, stdin to the container,
// raw terminal + resize with a TTY, signal proxying without one.
import type { Socket } from 'node:net';
import type { ApiClient } from '../client.js';
import { DEFAULT_DETACH_KEYS, forwardResize, parseDetachKeys, pumpOutput, pumpStdin, rawTerminal } from '../stdio.js';

export interface Session {
  /** Resolves when the output stream ends, or 'detached' after the detach keys. */
  done: Promise<'ended' | 'detached'>;
  /** Call once the container/exec runs: from then on the terminal size is forwarded. */
  started(): void;
}

/**
 * Opens the local side at once (raw mode, stdin, signals), before the
 * container starts, as docker does: keys typed early are not lost to the
 * terminal's line discipline.
 */
export function openSession(
  client: ApiClient,
  conn: { socket: Socket; head: Buffer },
  opts: { tty: boolean; stdin: boolean; resizePath?: string; proxySignalsTo?: string; detachKeys?: string },
): Session {
  const { socket, head } = conn;
  let detach!: () => void;
  const detached = new Promise<'detached'>((r) => (detach = () => r('detached')));
  const ended = pumpOutput(socket, opts.tty, head).then(() => 'ended' as const);
  const restore = opts.tty && opts.stdin ? rawTerminal() : () => {};
  if (opts.stdin) {
    const keys = opts.detachKeys ? parseDetachKeys(opts.detachKeys) : DEFAULT_DETACH_KEYS;
    pumpStdin(socket, { detachKeys: opts.tty ? keys : undefined, onDetach: detach });
  }
  if (!opts.tty && opts.proxySignalsTo) {
    const target = opts.proxySignalsTo;
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const) {
      process.on(sig, () => {
        client.call('POST', `/containers/${target}/kill`, { query: { signal: sig } }).catch(() => {});
      });
    }
  }
  return {
    done: Promise.race([ended, detached]).finally(() => restore()),
    started() {
      if (opts.tty && opts.resizePath) {
        const path = opts.resizePath;
        forwardResize((h, w) => client.call('POST', path, { query: { h, w } }));
      }
    },
  };
}
