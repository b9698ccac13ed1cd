// User-defined bridge networks through the real docker CLI against a tug
// daemon: create with --subnet/--gateway/--ip-range/--label/-o bridge.name,
// ls filters, inspect shapes, --ip/--network-alias, live connect/disconnect,
// overlap and exhaustion errors, isolation between networks, --internal, rm,
// prune, events, and a daemon killed with -9 keeping it all. Traffic goes only
// to addresses on bridges this test made.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { runTool } from '../../src/util/exec-file.js';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand, type CommandResult } from '../helpers/run-command.js';

let d: TestDaemon;
const sfx = randomBytes(3).toString('hex');
// Subnets of this test only: 10.<b>.<c>.0/24 next to the daemon's own, chosen at random as the daemon's is.
const b2 = 200 + (randomBytes(1)[0]! % 50);
const c2 = randomBytes(1)[0]! & 0xf8;
const subnetA = `10.${b2}.${c2}.0/24`;
const subnetTiny = `10.${b2}.${c2 + 2}.0/30`;
const subnetInt = `10.${b2}.${c2 + 3}.0/24`;
const ipIn = (subnet: string, last: number): string => subnet.replace(/\.0\/\d+$/, `.${last}`);

const docker = (...args: string[]): Promise<CommandResult> => runCommand('docker', args, { env: d.env });
async function ok(...args: string[]): Promise<string> {
  const r = await docker(...args);
  assert.equal(r.code, 0, `docker ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}
async function fails(...args: string[]): Promise<string> {
  const r = await docker(...args);
  assert.notEqual(r.code, 0, `docker ${args.join(' ')} should fail`);
  return r.stderr;
}
const json = async (...args: string[]): Promise<any> => JSON.parse(await ok(...args));
const linkExists = async (name: string): Promise<boolean> => (await runTool('ip', ['link', 'show', 'dev', name], { allowFailure: true })).code === 0;
const rulesNaming = async (word: string): Promise<string[]> => {
  const out: string[] = [];
  for (const t of ['filter', 'nat']) out.push(...(await runTool('iptables', ['-w', '-t', t, '-S'])).stdout.split('\n').filter((l) => l.includes(word)));
  return out;
};
/** A ping from inside a container: true when one reply came back. */
const pings = async (ctr: string, ip: string): Promise<boolean> => (await docker('exec', ctr, 'ping', '-c', '1', '-W', '1', ip)).code === 0;

const netA = `na-${sfx}`;
const netB = `nb-${sfx}`;
const brA = `tna${sfx}`;

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.stop();
});

test('create with subnet, gateway, ip-range, label and bridge name; inspect and ls show it as dockerd does', async () => {
  const id = await ok('network', 'create', '--subnet', subnetA, '--gateway', ipIn(subnetA, 254), '--ip-range', subnetA.replace(/\.0\/24$/, '.128/28'), '--aux-address', `r=${ipIn(subnetA, 128)}`,
    '--label', `t=${sfx}`, '-o', `com.docker.network.bridge.name=${brA}`, netA);
  assert.match(id, /^[0-9a-f]{64}$/);
  const [n] = await json('network', 'inspect', netA);
  assert.equal(n.Name, netA);
  assert.equal(n.Id, id);
  assert.equal(n.Driver, 'bridge');
  assert.equal(n.Scope, 'local');
  assert.deepEqual(n.IPAM.Config, [{ Subnet: subnetA, IPRange: subnetA.replace(/\.0\/24$/, '.128/28'), Gateway: ipIn(subnetA, 254), AuxiliaryAddresses: { r: ipIn(subnetA, 128) } }]);
  assert.deepEqual(n.Labels, { t: sfx });
  assert.deepEqual(n.Options, { 'com.docker.network.bridge.name': brA });
  assert.equal(n.Internal, false);
  assert.deepEqual(n.Containers, {});
  assert.ok(await linkExists(brA), 'the bridge is made with the network');
  assert.equal(await ok('network', 'ls', '--filter', `label=t=${sfx}`, '--format', '{{.Name}}'), netA);
  assert.deepEqual((await ok('network', 'ls', '--filter', 'type=builtin', '--format', '{{.Name}}')).split('\n').sort(), ['bridge', 'host', 'none']);
  assert.ok((await ok('network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}')).split('\n').includes(netA));

  // Without --subnet: a default pool (172.17-31/16 or 192.168.x/20) that nothing on the host routes.
  const [auto] = await json('network', 'inspect', (await ok('network', 'create', netB)));
  assert.match(auto.IPAM.Config[0].Subnet, /^(172\.(1[7-9]|2\d|3[01])\.0\.0\/16|192\.168\.\d+\.0\/20)$/);
  assert.equal(auto.IPAM.Config[0].Gateway, auto.IPAM.Config[0].Subnet.replace(/\.0\/\d+$/, '.1'));
  assert.ok(await linkExists(`br-${auto.Id.slice(0, 12)}`), 'default bridge name is br- and 12 hex of the id');
});

test('bad create input: duplicate name, overlapping subnet, gateway outside, unknown driver', async () => {
  assert.match(await fails('network', 'create', netA), /network with name .* already exists/);
  assert.match(await fails('network', 'create', '--subnet', subnetA.replace(/\/24$/, '/25'), `x-${sfx}`), /Pool overlaps with other one on this address space/);
  assert.match(await fails('network', 'create', '--subnet', d.subnet, `y-${sfx}`), /Pool overlaps with other one on this address space/);
  // The subnet's own network address cannot be its gateway (the CLI itself refuses one outside the subnet).
  assert.match(await fails('network', 'create', '--subnet', subnetTiny, '--gateway', subnetTiny.replace(/\/30$/, ''), `z-${sfx}`), /Requested address is out of range/);
  assert.match(await fails('network', 'create', '-d', 'nosuchdriver', `w-${sfx}`), /plugin "nosuchdriver" not found/);
  assert.match(await fails('network', 'create', 'host'), /predefined host network/);
  const names = (await ok('network', 'ls', '--format', '{{.Name}}')).split('\n');
  for (const n of [`x-${sfx}`, `y-${sfx}`, `z-${sfx}`, `w-${sfx}`]) assert.ok(!names.includes(n), `${n} must not exist`);
});

test('run --network --ip --network-alias: address, aliases, MAC and gateway in inspect; containers of one network reach each other', async () => {
  const a1 = `a1-${sfx}`;
  const a2 = `a2-${sfx}`;
  await ok('run', '-d', '--name', a1, '--network', netA, '--ip', ipIn(subnetA, 10), '--network-alias', 'web', 'busybox', 'sleep', '600');
  await ok('run', '-d', '--name', a2, '--network', netA, 'busybox', 'sleep', '600');
  const [c1] = await json('inspect', a1);
  const ep = c1.NetworkSettings.Networks[netA];
  assert.equal(c1.HostConfig.NetworkMode, netA);
  assert.equal(ep.IPAddress, ipIn(subnetA, 10));
  assert.equal(ep.IPPrefixLen, 24);
  assert.equal(ep.Gateway, ipIn(subnetA, 254));
  assert.deepEqual(ep.IPAMConfig, { IPv4Address: ipIn(subnetA, 10) });
  // The docker CLI speaks API 1.45+: Aliases are what was asked for, the short id is in DNSNames.
  assert.deepEqual(ep.Aliases, ['web']);
  assert.ok(ep.DNSNames.includes(c1.Id.slice(0, 12)), 'DNSNames carries the short id');
  assert.equal(ep.MacAddress, '02:42:' + ipIn(subnetA, 10).split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join(':'));
  assert.match(ep.EndpointID, /^[0-9a-f]{64}$/);
  assert.equal(c1.NetworkSettings.IPAddress, '', 'top-level fields belong to the default bridge');
  // The first free address of the ip-range (its first one is an aux address).
  const ip2 = await ok('inspect', '-f', `{{(index .NetworkSettings.Networks "${netA}").IPAddress}}`, a2);
  assert.equal(ip2, ipIn(subnetA, 129));
  assert.match(await ok('exec', a1, 'ip', 'route'), new RegExp(`default via ${ipIn(subnetA, 254).replace(/\./g, '\\.')} dev eth0`));
  assert.ok(await pings(a2, ipIn(subnetA, 10)), 'a2 reaches a1 on the same network');
  const [n] = await json('network', 'inspect', netA);
  assert.deepEqual(Object.keys(n.Containers).sort(), [c1.Id, (await ok('inspect', '-f', '{{.Id}}', a2))].sort());
  assert.equal(n.Containers[c1.Id].IPv4Address, `${ipIn(subnetA, 10)}/24`);
  assert.equal(n.Containers[c1.Id].Name, a1);
  // The same static address twice, and one outside the subnet.
  assert.match(await fails('run', '-d', '--network', netA, '--ip', ipIn(subnetA, 10), 'busybox', 'true'), /Address already in use/);
  assert.match(await fails('create', '--network', netA, '--ip', '10.9.9.9', 'busybox', 'true'), /does not belong to any of this network's subnets/);
});

test('two networks are isolated; connect adds eth1 with aliases live, disconnect takes it away', async () => {
  const a1 = `a1-${sfx}`;
  const b1 = `b1-${sfx}`;
  await ok('run', '-d', '--name', b1, '--network', netB, 'busybox', 'sleep', '600');
  const bIp = await ok('inspect', '-f', `{{(index .NetworkSettings.Networks "${netB}").IPAddress}}`, b1);
  assert.equal(await pings(b1, ipIn(subnetA, 10)), false, 'a container on another network must not reach a1');
  assert.equal(await pings(a1, bIp), false, 'nor a1 it');
  const bridgeIp = await ok('inspect', '-f', '{{.NetworkSettings.IPAddress}}', (await ok('run', '-d', 'busybox', 'sleep', '600')));
  assert.equal(await pings(a1, bridgeIp), false, 'nor a container on the default bridge');

  await ok('network', 'connect', '--alias', 'extra', netB, a1);
  const [c1] = await json('inspect', a1);
  const epB = c1.NetworkSettings.Networks[netB];
  assert.deepEqual(epB.Aliases, ['extra']);
  assert.match(await ok('exec', a1, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1'), new RegExp(epB.IPAddress.replace(/\./g, '\\.')));
  assert.ok(await pings(b1, epB.IPAddress), 'b1 reaches a1 once a1 is on its network');
  assert.match(await fails('network', 'connect', netB, a1), /already exists in network/);
  await ok('network', 'disconnect', netB, a1);
  assert.notEqual((await docker('exec', a1, 'ip', 'link', 'show', 'dev', 'eth1')).code, 0, 'eth1 is gone');
  assert.equal(await ok('inspect', '-f', `{{len .NetworkSettings.Networks}}`, a1), '1');
  assert.match(await fails('network', 'disconnect', netB, a1), /is not connected to network/);
  assert.match(await fails('network', 'connect', 'host', a1), /connected to host network/);

  // Two --network flags at create: eth0 on the first (with the default route), eth1 on the second.
  const both = `both-${sfx}`;
  await ok('run', '-d', '--name', both, '--network', netA, '--network', netB, 'busybox', 'sleep', '600');
  const [cb] = await json('inspect', both);
  assert.deepEqual(Object.keys(cb.NetworkSettings.Networks).sort(), [netA, netB].sort());
  assert.match(await ok('exec', both, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0'), new RegExp(cb.NetworkSettings.Networks[netA].IPAddress.replace(/\./g, '\\.')));
  assert.match(await ok('exec', both, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1'), new RegExp(cb.NetworkSettings.Networks[netB].IPAddress.replace(/\./g, '\\.')));
  assert.match(await ok('exec', both, 'ip', 'route'), new RegExp(`^default via ${ipIn(subnetA, 254).replace(/\./g, '\\.')} dev eth0`, 'm'));
  assert.ok(await pings(both, bIp) && await pings(both, ipIn(subnetA, 10)), 'it reaches both networks');
  assert.ok((await ok('ps', '--filter', `network=${netB}`, '--format', '{{.Names}}')).split('\n').includes(both));
  await ok('rm', '-f', both);

  // A stopped container: connect records the endpoint, start wires it.
  await ok('stop', '-t', '0', b1);
  await ok('network', 'connect', '--alias', 'late', netA, b1);
  await ok('start', b1);
  assert.ok(await pings(b1, ipIn(subnetA, 10)), 'b1 reaches a1 after connect while stopped and start');
  assert.ok(await ok('exec', b1, 'ip', '-o', 'link', 'show', 'dev', 'eth1'));
});

test('a port published from a container on a user-defined network answers on the host', async () => {
  const srv = await ok('run', '-d', '--network', netA, '-p', '127.0.0.1::80', 'busybox', 'sh', '-c', `echo pub-${sfx} > /i.html; exec httpd -f -p 80 -h /`);
  const port = (await ok('port', srv, '80')).split(':').pop();
  const got = await runCommand('sh', ['-c', `for i in $(seq 1 50); do wget -q -O - http://127.0.0.1:${port}/i.html && exit 0; sleep 0.2; done; exit 1`]);
  assert.equal(got.stdout.trim(), `pub-${sfx}`);
  await ok('rm', '-f', srv);
});

test('exhaustion: a /30 has room for one container', async () => {
  const tiny = `tiny-${sfx}`;
  await ok('network', 'create', '--subnet', subnetTiny, tiny);
  await ok('run', '-d', '--name', `t1-${sfx}`, '--network', tiny, 'busybox', 'sleep', '600');
  const err = await fails('run', '-d', '--name', `t2-${sfx}`, '--network', tiny, 'busybox', 'sleep', '600');
  assert.match(err, /no available IPv4 addresses on this network's address pools: tiny-\w+ \([0-9a-f]{64}\)/);
  await ok('rm', '-f', `t1-${sfx}`, `t2-${sfx}`);
});

test('--internal: no default route, nothing out of the bridge, containers on it still reach each other', async () => {
  const net = `int-${sfx}`;
  await ok('network', 'create', '--internal', '--subnet', subnetInt, net);
  const [n] = await json('network', 'inspect', net);
  assert.equal(n.Internal, true);
  await ok('run', '-d', '--name', `i1-${sfx}`, '--network', net, 'busybox', 'sleep', '600');
  await ok('run', '-d', '--name', `i2-${sfx}`, '--network', net, 'busybox', 'sleep', '600');
  assert.doesNotMatch(await ok('exec', `i1-${sfx}`, 'ip', 'route'), /default/);
  const i2 = await ok('inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, `i2-${sfx}`);
  assert.ok(await pings(`i1-${sfx}`, i2));
  // The gateway of network A (a bridge address this test made) is off the internal network: unreachable.
  assert.equal(await pings(`i1-${sfx}`, ipIn(subnetA, 254)), false);
  const nat = (await runTool('iptables', ['-w', '-t', 'nat', '-S', 'POSTROUTING'])).stdout;
  assert.ok(!nat.includes(subnetInt), 'no NAT for an internal network');
});

test('enable_icc=false: containers on the bridge cannot reach each other (needs br_netfilter, else refused)', async () => {
  const net = `noicc-${sfx}`;
  const sub = `10.${b2}.${c2 + 5}.0/24`;
  const brNf = (await readFile('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8').catch(() => '')).trim() === '1';
  const r = await docker('network', 'create', '--subnet', sub, '-o', 'com.docker.network.bridge.enable_icc=false', net);
  if (!brNf) {
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /needs the br_netfilter kernel module/);
    return;
  }
  assert.equal(r.code, 0, r.stderr);
  await ok('run', '-d', '--name', `n1-${sfx}`, '--network', net, '--ip', ipIn(sub, 2), 'busybox', 'sleep', '600');
  await ok('run', '-d', '--name', `n2-${sfx}`, '--network', net, '--ip', ipIn(sub, 3), 'busybox', 'sleep', '600');
  assert.equal(await pings(`n2-${sfx}`, ipIn(sub, 2)), false);
  await ok('rm', '-f', `n1-${sfx}`, `n2-${sfx}`);
  await ok('network', 'rm', net);
});

test('rm refuses a network in use (403), then leaves no bridge or rule; prune takes unused networks by label', async () => {
  assert.match(await fails('network', 'rm', netA), /has active endpoints/);
  await ok('rm', '-f', `a1-${sfx}`, `a2-${sfx}`, `b1-${sfx}`);
  assert.equal(await ok('network', 'rm', netA), netA);
  assert.equal(await linkExists(brA), false);
  assert.deepEqual(await rulesNaming(brA), []);
  const p1 = `p1-${sfx}`;
  const p2 = `p2-${sfx}`;
  await ok('network', 'create', '--label', 'prune=yes', p1);
  await ok('network', 'create', p2);
  const out = await ok('network', 'prune', '-f', '--filter', 'label=prune=yes');
  assert.match(out, new RegExp(p1));
  const names = (await ok('network', 'ls', '--format', '{{.Name}}')).split('\n');
  assert.ok(!names.includes(p1) && names.includes(p2));
  await ok('network', 'rm', p2);
});

test('events: network create, connect, disconnect, destroy', async () => {
  const since = String(Math.floor(Date.now() / 1000) - 1);
  const net = `ev-${sfx}`;
  const id = await ok('network', 'create', net);
  const c = await ok('run', '-d', '--network', net, 'busybox', 'sleep', '600');
  await ok('rm', '-f', c);
  await ok('network', 'rm', net);
  const until = String(Math.floor(Date.now() / 1000) + 1);
  const lines = (await ok('events', '--since', since, '--until', until, '--filter', 'type=network', '--format', '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}} {{.Actor.Attributes.container}} {{.Actor.Attributes.type}}'))
    .split('\n').filter((l) => l.includes(id));
  assert.deepEqual(lines, [`create ${id} ${net} <no value> bridge`, `connect ${id} ${net} ${c} bridge`, `disconnect ${id} ${net} ${c} bridge`, `destroy ${id} ${net} <no value> bridge`]);
});

test('kill -9 and restart: networks, attachments and addresses survive; isolation rules come back', async () => {
  const net = `keep-${sfx}`;
  const sub = `10.${b2}.${c2 + 4}.0/24`;
  await ok('network', 'create', '--subnet', sub, net);
  await ok('run', '-d', '--name', `k1-${sfx}`, '--network', net, '--ip', ipIn(sub, 7), 'busybox', 'sleep', '600');
  await ok('run', '-d', '--name', `k2-${sfx}`, '--network', net, 'busybox', 'sleep', '600');
  await ok('run', '-d', '--name', `k3-${sfx}`, '--network', netB, 'busybox', 'sleep', '600');
  await d.crash();
  await d.restart();
  const [n] = await json('network', 'inspect', net);
  assert.equal(Object.keys(n.Containers).length, 2);
  assert.equal(await ok('inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, `k1-${sfx}`), ipIn(sub, 7));
  assert.ok(await pings(`k2-${sfx}`, ipIn(sub, 7)));
  assert.equal(await pings(`k3-${sfx}`, ipIn(sub, 7)), false);
  // A container stopped and started again gets its static address back.
  await ok('restart', '-t', '0', `k1-${sfx}`);
  assert.equal(await ok('inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, `k1-${sfx}`), ipIn(sub, 7));
  assert.ok(await pings(`k2-${sfx}`, ipIn(sub, 7)));
  // Without a static address, a restarted container gets its last one back when it is free (here a lower one is free too).
  await ok('run', '-d', '--name', `k4-${sfx}`, '--network', net, 'busybox', 'sleep', '600');
  const ipOf = (n: string): Promise<string> => ok('inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, n);
  const k2ip = await ipOf(`k2-${sfx}`);
  const k4ip = await ipOf(`k4-${sfx}`);
  assert.ok(Number(k2ip.split('.')[3]) < Number(k4ip.split('.')[3]), `${k2ip} < ${k4ip}`);
  await ok('stop', '-t', '0', `k2-${sfx}`, `k4-${sfx}`);
  await ok('start', `k4-${sfx}`);
  assert.equal(await ipOf(`k4-${sfx}`), k4ip);
  await ok('rm', '-f', `k1-${sfx}`, `k2-${sfx}`, `k3-${sfx}`, `k4-${sfx}`);
  await ok('network', 'rm', net);
});

test('a container that dies while the daemon is down leaves no veth, namespace or address behind; rm then leaves no bridge or rule', async () => {
  const net = `gone-${sfx}`;
  const sub = `10.${b2}.${c2 + 6}.0/24`;
  const id = await ok('network', 'create', '--subnet', sub, net);
  const bridge = `br-${id.slice(0, 12)}`;
  const ctr = await ok('run', '-d', '--network', net, '--ip', ipIn(sub, 9), 'busybox', 'sleep', '600');
  const pid = Number(await ok('inspect', '-f', '{{.State.Pid}}', ctr));
  const ports = async (): Promise<string> => (await runTool('ip', ['-o', 'link', 'show', 'master', bridge])).stdout.trim();
  assert.notEqual(await ports(), '', 'the container has a veth on the bridge');
  await d.crash();
  process.kill(pid, 'SIGKILL');
  await d.restart();
  assert.equal(await ok('inspect', '-f', '{{.State.Running}}', ctr), 'false');
  assert.equal(await ports(), '', 'no veth left on the bridge');
  assert.deepEqual((await json('network', 'inspect', net))[0].Containers, {});
  // Its address is free again: a new container may take it.
  await ok('run', '-d', '--name', `again-${sfx}`, '--network', net, '--ip', ipIn(sub, 9), 'busybox', 'sleep', '600');
  await ok('rm', '-f', ctr, `again-${sfx}`);
  await ok('network', 'rm', net);
  assert.equal(await linkExists(bridge), false);
  assert.deepEqual(await rulesNaming(bridge), []);
});
