// After `docker rm -f` nothing of a container may be left on the host: mounts,
// cgroups, network namespace, veth, iptables rules, state directories.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runTool } from '../../src/util/exec-file.js';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand, type CommandResult } from '../helpers/run-command.js';

type Run = CommandResult;

let d: TestDaemon;
const sfx = randomBytes(3).toString('hex');

const docker = (...args: string[]): Promise<Run> => runCommand('docker', args, { env: d.env });
async function ok(...args: string[]): Promise<string> {
  const r = await docker(...args);
  assert.equal(r.code, 0, `docker ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}
const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

/** Every cgroup dir of a process, one per hierarchy (v1) or the unified one (v2). */
async function cgroupDirs(pid: string): Promise<string[]> {
  const out: string[] = [];
  const unified = (await exists('/sys/fs/cgroup/unified')) ? '/sys/fs/cgroup/unified' : '/sys/fs/cgroup'; // hybrid v1 hosts mount v2 there
  for (const line of (await readFile(`/proc/${pid}/cgroup`, 'utf8')).split('\n').filter(Boolean)) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (!path || path === '/') continue;
    const ctrl = (controllers ?? '').replace(/^name=/, '');
    if (ctrl === '') out.push(`${unified}${path}`);
    else if (ctrl === 'systemd') out.push(`/sys/fs/cgroup/systemd${path}`);
    else out.push(`/sys/fs/cgroup/${ctrl}${path}`);
  }
  return out;
}

const vethsOnBridge = async (): Promise<string[]> =>
  (await runTool('ip', ['-o', 'link', 'show', 'master', d.bridge])).stdout.split('\n').filter(Boolean).map((l) => l.split(':')[1]!.trim().replace(/@.*/, ''));

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.stop();
});

test('docker rm -f leaves no mount, cgroup, netns, veth, iptables rule or state dir', async () => {
  const names = [`clean-a-${sfx}`, `clean-b-${sfx}`];
  const info: Array<{ id: string; ip: string; netns: string; cgroups: string[] }> = [];
  for (const name of names) {
    await ok('run', '-d', '--name', name, '-p', '127.0.0.1::80', '-p', '127.0.0.1::53/udp', '-v', `cv-${name}:/data`, '-v', '/anon', '--tmpfs', '/scratch', 'busybox', 'sleep', '300');
    const [id, ip, netns, pid] = (await ok('inspect', '-f', '{{.Id}} {{.NetworkSettings.IPAddress}} {{.NetworkSettings.SandboxKey}} {{.State.Pid}}', name)).split(' ');
    const cgroups = await cgroupDirs(pid!);
    assert.ok(cgroups.some((c) => c.includes(id!)), `cgroup dirs of ${name} should name its id: ${cgroups.join(', ')}`);
    info.push({ id: id!, ip: ip!, netns: netns!, cgroups });
  }

  // Everything is there while the containers run (or the checks below would prove nothing).
  const mountsBefore = await readFile('/proc/mounts', 'utf8');
  const nat = (await runTool('iptables-save', [])).stdout;
  for (const c of info) {
    assert.ok(mountsBefore.includes(c.id), `expected mounts for ${c.id}`);
    assert.ok(await exists(c.netns), `netns ${c.netns} should exist`);
    assert.ok(nat.includes(`${c.ip}/32`) || nat.includes(`${c.ip}:`), `expected iptables rules for ${c.ip}`);
    for (const cg of c.cgroups) assert.ok(await exists(cg), `cgroup ${cg} should exist`);
  }
  assert.equal((await vethsOnBridge()).length, 2);
  const stateBefore = await findPaths(d.root, info.map((c) => c.id));
  assert.ok(stateBefore.length > 0, 'expected state dirs named after the containers');

  await ok('rm', '-f', '-v', ...names);

  const mountsAfter = (await readFile('/proc/mounts', 'utf8')).split('\n').filter((l) => l.includes(d.root));
  assert.deepEqual(mountsAfter, [], 'mounts left under the daemon root');
  const rules = (await runTool('iptables-save', [])).stdout.split('\n');
  for (const c of info) {
    assert.equal(await exists(c.netns), false, `netns ${c.netns} left`);
    for (const cg of c.cgroups) assert.equal(await exists(cg), false, `cgroup ${cg} left`);
    const left = rules.filter((l) => l.includes(`${c.ip}/32`) || l.includes(`${c.ip}:`) || l.includes(c.id));
    assert.deepEqual(left, [], `iptables rules left for ${c.ip}`);
  }
  assert.deepEqual(await vethsOnBridge(), [], 'veths left on the bridge');
  assert.deepEqual(await findPaths(d.root, info.map((c) => c.id)), [], 'state left under the daemon root');
  assert.equal(await ok('ps', '-aq'), '');
  // Named volumes stay (Docker keeps them with -v); anonymous ones go.
  assert.deepEqual((await ok('volume', 'ls', '-q')).split('\n').sort(), names.map((n) => `cv-${n}`).sort());
  for (const n of names) await ok('volume', 'rm', `cv-${n}`);
});

/** Paths under root (three levels deep) whose name contains one of the ids. */
async function findPaths(root: string, ids: string[]): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e);
      if (ids.some((id) => e.includes(id))) found.push(p);
      else if (depth < 3) await walk(p, depth + 1);
    }
  };
  await walk(root, 0);
  return found;
}
