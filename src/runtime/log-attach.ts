// Output-only attach served from the container's log instead of conmon's
// attach socket. Needed for StdinOnce containers: conmon closes the
// container's stdin when *any* attach client disconnects, while Docker closes
// it only when the client that owns stdin does. Following the log from its
// current end gives the same bytes, streams kept apart, without touching stdin.
import { PassThrough } from 'node:stream';
import { readLogs } from './logs/k8s-file.js';

export interface LogAttach {
  stdout: PassThrough;
  stderr: PassThrough | null;
  close(): void;
}

export function attachViaLog(logPath: string, tty: boolean, exited: Promise<unknown>): LogAttach {
  const stdout = new PassThrough();
  const stderr = tty ? null : new PassThrough();
  const ac = new AbortController();
  let running = true;
  void exited.finally(() => (running = false));
  void (async () => {
    try {
      for await (const e of readLogs(logPath, { follow: true, tail: 0, signal: ac.signal, stillRunning: () => running })) {
        if (e.stream === 'stderr' && stderr) stderr.write(e.data);
        else stdout.write(e.data);
      }
    } catch (err) {
      stdout.destroy(err as Error);
      stderr?.destroy(err as Error);
      return;
    }
    stdout.end();
    stderr?.end();
  })();
  return {
    stdout,
    stderr,
    close() {
      ac.abort();
    },
  };
}
