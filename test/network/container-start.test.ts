// Through a real daemon and the docker CLI: the network is wired while runc
// creates the container, so check what the process sees at its first
// instruction: eth0 up with its address, that address in /etc/hosts, and a
// per-interface sysctl (which needs eth0 to exist when runc applies it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand, type CommandResult } from '../helpers/run-command.js';

let d: TestDaemon;

const docker = (...args: string[]): Promise<CommandResult> => runCommand('docker', args, { env: d.env });

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.stop();
});

test('the first instruction sees eth0 with its address, and /etc/hosts names it', async () => {
  const r = await docker('run', '--rm', '--hostname', 'early', 'busybox', 'sh', '-c', "ip -4 -o addr show dev eth0 | awk '{print $4}'; tail -1 /etc/hosts");
  assert.equal(r.code, 0, r.stderr);
  const [cidr, hostsLine] = r.stdout.trim().split('\n');
  const ip = cidr!.split('/')[0]!;
  assert.ok(ip.startsWith(d.subnet.split('.').slice(0, 3).join('.') + '.'), `eth0 address ${cidr} in ${d.subnet}`);
  assert.equal(hostsLine, `${ip}\tearly`);
});

test('a sysctl naming eth0 is applied (the network is wired before runc create in that case)', async () => {
  const r = await docker('run', '--rm', '--sysctl', 'net.ipv4.conf.eth0.accept_redirects=0', 'busybox', 'cat', '/proc/sys/net/ipv4/conf/eth0/accept_redirects');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '0');
});
