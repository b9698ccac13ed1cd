// Test helper: runs real etcd servers (Debian etcd-server) on loopback, one
// member or a cluster of several, each in its own temp data dir, and stops them
// by the PIDs it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface EtcdCluster {
  /** Client URLs, one per member, in member order. */
  endpoints: string[];
  /** The members' PIDs, in member order (benchmarks read their CPU time from /proc). */
  pids: number[];
  /** kill -9 of member i (its PID), as a machine loss: the others keep quorum if a majority is left. */
  kill(member: number): Promise<void>;
  stop(): Promise<void>;
}

/** A port the kernel just handed out on 127.0.0.1 (free now; etcd binds it right after). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { health?: string };
    return res.ok && body.health === 'true';
  } catch {
    return false;
  }
}

export async function startEtcd(members = 1, opts: { quotaBackendBytes?: number; maxTxnOps?: number } = {}): Promise<EtcdCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'tug-etcd-'));
  const token = `tug-test-${randomBytes(4).toString('hex')}`;
  const specs: { name: string; client: string; peer: string }[] = [];
  for (let i = 0; i < members; i++) {
    specs.push({ name: `m${i}`, client: `http://127.0.0.1:${await freePort()}`, peer: `http://127.0.0.1:${await freePort()}` });
  }
  const initialCluster = specs.map((s) => `${s.name}=${s.peer}`).join(',');
  const procs: ChildProcess[] = [];
  const logs: string[] = specs.map(() => '');
  const stop = async (): Promise<void> => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGTERM');
            // etcd exits promptly on SIGTERM; SIGKILL (same PID) if it does not.
            setTimeout(() => p.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    specs.forEach((s, i) => {
      const p = spawn(
        'etcd',
        [
          '--name', s.name,
          '--data-dir', join(dir, s.name),
          '--listen-client-urls', s.client,
          '--advertise-client-urls', s.client,
          '--listen-peer-urls', s.peer,
          '--initial-advertise-peer-urls', s.peer,
          '--initial-cluster', initialCluster,
          '--initial-cluster-token', token,
          '--initial-cluster-state', 'new',
          '--log-level', 'error',
          ...(opts.quotaBackendBytes ? ['--quota-backend-bytes', String(opts.quotaBackendBytes)] : []),
          ...(opts.maxTxnOps ? ['--max-txn-ops', String(opts.maxTxnOps)] : []),
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      p.stderr!.on('data', (d: Buffer) => (logs[i] = (logs[i] + d.toString()).slice(-4000)));
      procs.push(p);
    });
    // Wait until every member reports healthy (a cluster needs its quorum up first).
    for (let attempt = 0; ; attempt++) {
      const states = await Promise.all(specs.map((s) => healthy(s.client)));
      if (states.every(Boolean)) break;
      const dead = procs.findIndex((p) => p.exitCode !== null);
      if (dead >= 0) throw new Error(`etcd member ${specs[dead].name} exited ${procs[dead].exitCode}: ${logs[dead]}`);
      if (attempt > 300) throw new Error(`etcd did not become healthy: ${logs.join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const kill = async (member: number): Promise<void> => {
    const p = procs[member];
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill('SIGKILL');
    await exited;
  };
  return { endpoints: specs.map((s) => s.client), pids: procs.map((p) => p.pid!), kill, stop };
}
