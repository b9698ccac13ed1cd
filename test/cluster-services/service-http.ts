// HTTP checks the Service tests share: a GET from inside a client pod (busybox
// nc through `kubectl exec`) and a GET from the host.
import { request } from 'node:http';
import type { RunResult } from '../../src/util/exec-file.js';

/** Runs kubectl in the test's namespace. */
export type NamespacedKubectl = (args: string[], opts?: { input?: string; allowFailure?: boolean }) => Promise<RunResult>;

/** One HTTP/1.0 GET from inside `pod` with busybox nc; stdout is the body's last line (a backend's hostname). */
export function fetchInPod(kns: NamespacedKubectl, pod: string, host: string, port = 80): Promise<RunResult> {
  return kns(['exec', pod, '--', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${host} ${port} | tail -n 1`], { allowFailure: true });
}

/** GET http://host:port/ from the host; the trimmed body, or a rejection on error or after 10 s. */
export function httpGet(host: string, port: number): Promise<string> {
  return new Promise((res, rej) => {
    const req = request({ host, port, path: '/', timeout: 10_000 }, (r) => {
      let body = '';
      r.on('data', (d: Buffer) => (body += d.toString()));
      r.on('end', () => res(body.trim()));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${host}:${port} timed out`)));
    req.on('error', rej);
    req.end();
  });
}
