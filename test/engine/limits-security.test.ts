// Container security through the real docker CLI against a tug daemon:
// capabilities, seccomp, no-new-privileges, masked and read-only /proc,
// privileged mode, and the namespaces that separate a container from the host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand, type CommandResult } from '../helpers/run-command.js';

let d: TestDaemon;

type Result = CommandResult;
const docker = (args: string[]): Promise<Result> => runCommand('docker', args, { env: d.env, guardMs: 120_000 });
/** Runs a shell script in a throwaway container and returns its key=value lines. */
async function probe(flags: string[], script: string): Promise<Record<string, string>> {
  const r = await docker(['run', '--rm', ...flags, 'busybox', 'sh', '-c', script]);
  assert.equal(r.code, 0, `probe failed (${r.code}): ${r.stderr}`);
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}
const statusScript = 'for k in CapEff NoNewPrivs Seccomp; do echo "$k=$(awk -v k=$k: \'$1==k{print $2}\' /proc/self/status)"; done';

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d.stop();
});

test('default: Docker\'s capability set, seccomp filter on, new privileges allowed', async () => {
  const p = await probe([], statusScript);
  assert.deepEqual(p, { CapEff: '00000000a80425fb', NoNewPrivs: '0', Seccomp: '2' });
});

test('--cap-drop ALL empties the set; --cap-add NET_ADMIN adds bit 12', async () => {
  assert.equal((await probe(['--cap-drop', 'ALL'], statusScript)).CapEff, '0000000000000000');
  const withNetAdmin = BigInt('0x' + (await probe(['--cap-add', 'NET_ADMIN'], statusScript)).CapEff);
  assert.equal(withNetAdmin, 0xa80425fbn | (1n << 12n));
  // NET_ADMIN really works: the container may change its own interface.
  const r = await docker(['run', '--rm', '--cap-add', 'NET_ADMIN', 'busybox', 'ip', 'link', 'set', 'lo', 'mtu', '1400']);
  assert.equal(r.code, 0, r.stderr);
  const denied = await docker(['run', '--rm', 'busybox', 'ip', 'link', 'set', 'lo', 'mtu', '1400']);
  assert.notEqual(denied.code, 0, 'without NET_ADMIN the same change is refused');
});

test('seccomp=unconfined turns the filter off; no-new-privileges sets the flag', async () => {
  const p = await probe(['--security-opt', 'seccomp=unconfined', '--security-opt', 'no-new-privileges'], statusScript);
  assert.equal(p.Seccomp, '0');
  assert.equal(p.NoNewPrivs, '1');
});

const procScript = [
  'echo "timer_list=$(wc -c < /proc/timer_list)"',
  'echo "masked=$(grep -cE \' /proc/(timer_list|keys|acpi|kcore|scsi) \' /proc/self/mountinfo)"',
  'echo "sysro=$(awk \'$5=="/proc/sys"{print $6}\' /proc/self/mountinfo | cut -d, -f1)"',
  'if echo x > /proc/sys/kernel/domainname 2>/dev/null; then echo syswrite=ok; else echo syswrite=refused; fi',
  'echo "devs=$(ls /dev | wc -l)"',
].join('; ');

test('masked /proc paths and read-only /proc/sys by default; --privileged lifts them and shows devices', async () => {
  const def = await probe([], procScript);
  assert.equal(def.timer_list, '0', 'masked file reads empty');
  assert.ok(Number(def.masked) >= 3, `masked mounts: ${def.masked}`);
  assert.equal(def.sysro, 'ro');
  assert.equal(def.syswrite, 'refused');
  const priv = await probe(['--privileged'], procScript + '; ' + statusScript);
  assert.ok(Number(priv.timer_list) > 0, 'privileged sees the real /proc/timer_list');
  assert.equal(priv.masked, '0');
  assert.notEqual(priv.sysro, 'ro');
  assert.ok(Number(priv.devs) > Number(def.devs), `privileged sees host devices (${priv.devs} vs ${def.devs})`);
  assert.ok(BigInt('0x' + priv.CapEff!) > 0xa80425fbn, `privileged CapEff ${priv.CapEff}`);
});

test('own pid, uts, ipc, mount and net namespaces; pid 1 is the command; hostname is set', async () => {
  const host = randomBytes(3).toString('hex');
  const p = await probe(['--hostname', `h-${host}`], [
    'for n in pid uts ipc mnt net; do echo "$n=$(readlink /proc/self/ns/$n)"; done',
    'echo "pid1=$(tr "\\0" " " < /proc/1/cmdline)"',
    'echo "hostname=$(hostname)"',
  ].join('; '));
  for (const ns of ['pid', 'uts', 'ipc', 'mnt', 'net']) {
    const mine = await readlink(`/proc/self/ns/${ns}`);
    assert.match(p[ns]!, new RegExp(`^${ns}:\\[\\d+\\]$`));
    assert.notEqual(p[ns], mine, `${ns} namespace differs from the host's`);
  }
  assert.match(p.pid1!, /^sh -c /, 'pid 1 is the command itself');
  assert.equal(p.hostname, `h-${host}`);
});
