// A real Docker engine (Debian's docker.io) started privately for a benchmark:
// its own socket, data and exec roots, and bridge, with busybox imported the
// same way tug builds its own, so both engines run the same image.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A busybox rootfs whose applet links are relative (so they work inside a container). */
export async function busyboxRootfs(dir: string): Promise<void> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  await mkdir(join(dir, 'etc'), { recursive: true });
  await copyFile('/bin/busybox', join(dir, 'bin', 'busybox'));
  const applets = spawnSync('/bin/busybox', ['--list']).stdout.toString().split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) spawnSync('ln', ['-sf', 'busybox', join(dir, 'bin', a)]);
  await writeFile(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
  await writeFile(join(dir, 'etc', 'group'), 'root:x:0:\nnobody:x:65534:\n');
}

/**
 * dockerd leaves its iptables rules behind when it stops (MASQUERADE for the
 * bridge's subnet, FORWARD and isolation rules naming the bridge): delete every
 * rule that names this bench's bridge, so a benchmark leaves the host as it was.
 */
function removeDockerRulesFor(bridge: string): void {
  for (const table of ['nat', 'filter']) {
    const rules = spawnSync('iptables-save', ['-t', table]).stdout.toString().split('\n');
    for (const rule of rules) {
      if (!rule.startsWith('-A ') || !rule.split(' ').includes(bridge)) continue;
      spawnSync('iptables', ['-w', '-t', table, '-D', ...rule.slice(3).split(' ')]);
    }
  }
}

export interface PrivateDockerd {
  env: NodeJS.ProcessEnv;
  pidFile: string;
  stop(): Promise<void>;
}

/** Starts dockerd under `work`, or returns undefined when Docker is not installed. */
export async function startPrivateDockerd(
  work: string,
  opts: { bridge: string; bridgeAddress: string; env?: NodeJS.ProcessEnv },
): Promise<PrivateDockerd | undefined> {
  if (!existsSync('/usr/sbin/dockerd') && !existsSync('/usr/bin/dockerd')) return undefined;
  const sock = join(work, 'docker.sock');
  const pidFile = join(work, 'docker.pid');
  spawnSync('ip', ['link', 'add', opts.bridge, 'type', 'bridge']);
  spawnSync('ip', ['addr', 'add', opts.bridgeAddress, 'dev', opts.bridge]);
  spawnSync('ip', ['link', 'set', opts.bridge, 'up']);
  const proc: ChildProcess = spawn('dockerd', ['--host', `unix://${sock}`, '--data-root', join(work, 'docker-root'), '--exec-root', join(work, 'docker-exec'),
    '--pidfile', pidFile, '--bridge', opts.bridge], { stdio: 'ignore' });
  const env = { ...process.env, ...opts.env, DOCKER_HOST: `unix://${sock}` };
  for (let i = 0; i < 300 && spawnSync('docker', ['version'], { env }).status !== 0; i++) await new Promise((r) => setTimeout(r, 100));
  const rootfs = join(work, 'docker-busybox');
  await busyboxRootfs(rootfs);
  const tar = spawn('tar', ['-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const imp = spawn('docker', ['import', '-c', 'CMD ["sh"]', '-c', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '-', 'busybox:latest'], { env, stdio: ['pipe', 'ignore', 'inherit'] });
  tar.stdout!.pipe(imp.stdin!);
  await new Promise((r) => imp.on('close', r));
  return {
    env,
    pidFile,
    async stop() {
      // dockerd forks nothing we must track by hand: its pid file names the daemon.
      const pid = existsSync(pidFile) ? Number((await readFile(pidFile, 'utf8')).trim()) : proc.pid;
      const exited = new Promise((r) => proc.once('exit', r));
      if (pid) process.kill(pid, 'SIGTERM');
      await exited;
      spawnSync('ip', ['link', 'del', opts.bridge]);
      removeDockerRulesFor(opts.bridge);
    },
  };
}
