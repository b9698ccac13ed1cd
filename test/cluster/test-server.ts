// Starts a real `tug server` child process for a test: own temp data dir, a
// free loopback port, and a kubectl wrapper bound to its kubeconfig. The store
// backend is a parameter (TUG_TEST_STORE=etcd TUG_TEST_ETCD_ENDPOINTS=... to
// run the same tests on etcd). stop() kills only the PID it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { runTool, type RunResult } from '../../src/util/exec-file.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const mainJs = join(repoRoot, 'dist', 'src', 'cluster', 'main.js');

export interface TestServer {
  dataDir: string;
  url: string;
  kubeconfig: string;
  /** Environment for kubectl children (kubeconfig and a private cache dir). */
  kubectlEnv: NodeJS.ProcessEnv;
  pid: number;
  kubectl(args: string[], opts?: { input?: string; env?: NodeJS.ProcessEnv; allowFailure?: boolean }): Promise<RunResult>;
  /** Raw HTTPS request with the admin token (or none, for anonymous). */
  http(method: string, path: string, opts?: { body?: string; headers?: Record<string, string>; anonymous?: boolean }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>;
  /** Stops the server; keepData leaves the data dir for a restart test. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export function storeArgs(): string[] {
  if (process.env.TUG_TEST_STORE === 'etcd') {
    // A fresh key prefix per server keeps parallel tests apart in one etcd.
    return ['--store', 'etcd', '--etcd-endpoints', process.env.TUG_TEST_ETCD_ENDPOINTS ?? 'http://127.0.0.1:2379', '--etcd-prefix', `/tug-test-${suffix()}`];
  }
  return ['--store', 'sqlite'];
}

export async function startTestServer(opts: { store?: string[]; dataDir?: string; extraArgs?: string[] } = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'tug-cluster-test-')));
  const child: ChildProcess = spawn(
    process.execPath,
    ['--input-type=module', '-e', `import(${JSON.stringify(mainJs)}).then((m) => m.runServerCommand(process.argv.slice(1)))`, '--', '--data-dir', dataDir, '--port', '0', '--no-agent', '--ui-addr', '127.0.0.1:0', ...(opts.store ?? storeArgs()), ...(opts.extraArgs ?? [])],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const started = new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`tug server did not start: ${err}`)), 60_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = out.match(/API listening on (https:\/\/\S+)/);
      if (m && out.includes('kubeconfig written')) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`tug server exited with ${code}: ${err}`));
    });
  });
  let url: string;
  try {
    url = await started;
  } catch (e) {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  const kubeconfig = join(dataDir, 'kubeconfig');
  // kubectl's discovery/HTTP cache goes in the test's data dir, not ~/.kube/cache.
  const kubectlEnv = { ...process.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dataDir, 'kubectl-cache') };
  const token = readFileSync(join(dataDir, 'tokens.csv'), 'utf8').split(',')[0];
  const ca = readFileSync(join(dataDir, 'pki', 'ca.crt'), 'utf8');
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    dataDir,
    url,
    kubeconfig,
    kubectlEnv,
    pid: child.pid!,
    kubectl: (args, opts = {}) =>
      runTool('kubectl', args, { input: opts.input, env: { ...kubectlEnv, ...(opts.env ?? {}) }, allowFailure: opts.allowFailure, timeoutMs: 60_000 }),
    http: (method, path, opts = {}) =>
      new Promise((res, rej) => {
        const u = new URL(path, url);
        const req = request(
          { method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, ca, headers: { ...(opts.anonymous ? {} : { Authorization: `Bearer ${token}` }), ...(opts.headers ?? {}) } },
          (r) => {
            let body = '';
            r.on('data', (b: Buffer) => (body += b.toString()));
            r.on('end', () => res({ status: r.statusCode ?? 0, headers: r.headers, body }));
          },
        );
        req.on('error', rej);
        req.end(opts.body);
      }),
    async stop(stopOpts = {}) {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      if (!stopOpts.keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const suffix = (): string => Math.random().toString(36).slice(2, 8);
