// Docker's embedded DNS on user-defined networks, through a real tug daemon,
// the docker CLI and docker-py: containers resolve each other by name, alias
// and short id (an alias two containers share gives both), not across
// networks; connect and disconnect while running add and take away names; the
// default bridge keeps the host's resolvers; other names go to the container's
// --dns (a fake upstream this test runs on the default bridge's gateway, so no
// query ever leaves the machine), except from an --internal network; a
// docker-compose service name gives all its replicas, rotated; a legacy
// --link is a name for the linking container only; names
// still resolve after the daemon is killed with -9 or stopped with SIGTERM and
// started again; network rm leaves nothing listening on the gateway's port 53.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dnsPacket from 'dns-packet';
import { runTool } from '../../src/util/exec-file.js';
import { startTestDaemon, tugBin, waitForPing, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand, type CommandResult } from '../helpers/run-command.js';

let d: TestDaemon;
const sfx = randomBytes(3).toString('hex');
// Subnets of this test only, next to the daemon's own, chosen at random as the daemon's is.
const b2 = 200 + (randomBytes(1)[0]! % 50);
const c2 = randomBytes(1)[0]! & 0xf0;
const sub = (k: number): string => `10.${b2}.${c2 + k}.0/24`;
const gw = (subnet: string): string => subnet.replace(/\.0\/24$/, '.1');

let env: NodeJS.ProcessEnv;
const docker = (...args: string[]): Promise<CommandResult> => runCommand('docker', args, { env, guardMs: 120_000 });
async function ok(...args: string[]): Promise<string> {
  const r = await docker(...args);
  assert.equal(r.code, 0, `docker ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}
const ipOn = (ctr: string, net: string): Promise<string> => ok('inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, ctr);

/** The IPv4 addresses busybox nslookup finds for `name` from inside `ctr` (none when it fails). */
async function resolve(ctr: string, name: string): Promise<string[]> {
  const r = await docker('exec', ctr, 'nslookup', '-type=a', name);
  if (r.code !== 0) return [];
  // The first Address line is the server's own (127.0.0.11:53).
  const afterName = r.stdout.split(/\nName:/).slice(1).join('\n');
  return [...afterName.matchAll(/Address:\s*(\d+\.\d+\.\d+\.\d+)\s*$/gm)].map((m) => m[1]!).sort();
}
const pings = async (ctr: string, ip: string): Promise<boolean> => (await docker('exec', ctr, 'ping', '-c', '1', '-W', '1', ip)).code === 0;

/** Lines of `ss` listening on ip:53 (UDP and TCP unless told). */
async function listenersOn(ip: string, protos = ['-u', '-t']): Promise<string[]> {
  const out: string[] = [];
  for (const proto of protos) {
    const r = await runTool('ss', ['-H', '-l', '-n', proto, 'src', `${ip}:53`]);
    out.push(...r.stdout.split('\n').filter((l) => l.trim()));
  }
  return out;
}

// The fake upstream: answers external.test with 192.0.2.55 and NXDOMAIN to everything else, and counts what it got.
const upstreamAnswer = '192.0.2.55';
const upstreamSeen: string[] = [];
let upstream: Socket | undefined;
let upstreamIp = '';
async function startUpstream(ip: string): Promise<void> {
  const s = createSocket('udp4');
  s.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const question = q.questions?.[0];
    if (!question) return;
    upstreamSeen.push(question.name);
    const known = question.name === 'external.test' && question.type === 'A';
    const reply = dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (known ? 0 : 3),
      questions: [question],
      answers: known ? [{ type: 'A', name: question.name, ttl: 60, data: upstreamAnswer }] : [],
    });
    s.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((res, rej) => {
    s.once('error', rej);
    s.bind(53, ip, () => res());
  });
  upstream = s;
  upstreamIp = ip;
}

const net1 = `dns1-${sfx}`;
const net2 = `dns2-${sfx}`;
const a = `a-${sfx}`;
const b = `b-${sfx}`;
const other = `o-${sfx}`;
const onBridge = `br-${sfx}`;

before(async () => {
  d = await startTestDaemon();
  env = d.env;
  // The default bridge gets its gateway address with its first container; the fake upstream listens there.
  await ok('run', '-d', '--name', onBridge, 'busybox', 'sleep', '600');
  // The CNI bridge plugin gives the default bridge the subnet's first address.
  const bridgeGateway = gw(d.subnet);
  assert.match((await runTool('ip', ['-4', '-o', 'addr', 'show', 'dev', d.bridge])).stdout, new RegExp(`inet ${bridgeGateway.replace(/\./g, '\\.')}/`));
  await startUpstream(bridgeGateway);
  await ok('network', 'create', '--subnet', sub(0), net1);
  await ok('network', 'create', '--subnet', sub(1), net2);
  // Every container names the fake upstream: a name the network does not know never reaches a real resolver.
  await ok('run', '-d', '--name', a, '--network', net1, '--network-alias', 'shared', '--network-alias', 'only-a', '--dns', upstreamIp, 'busybox', 'sleep', '600');
  await ok('run', '-d', '--name', b, '--network', net1, '--network-alias', 'shared', '--dns', upstreamIp, 'busybox', 'sleep', '600');
  await ok('run', '-d', '--name', other, '--network', net2, '--dns', upstreamIp, 'busybox', 'sleep', '600');
});
after(async () => {
  upstream?.close();
  await d?.stop();
});

test('containers on a user network resolve each other by name, alias and short id; resolv.conf names 127.0.0.11', async () => {
  const ipA = await ipOn(a, net1);
  const ipB = await ipOn(b, net1);
  assert.equal(await ok('exec', b, 'cat', '/etc/resolv.conf'), 'nameserver 127.0.0.11\noptions ndots:0');
  assert.deepEqual(await resolve(b, a), [ipA]);
  assert.deepEqual(await resolve(a, b), [ipB]);
  assert.deepEqual(await resolve(b, 'only-a'), [ipA]);
  assert.deepEqual(await resolve(b, 'ONLY-A'), [ipA], 'names are case-insensitive');
  const shortA = (await ok('inspect', '-f', '{{.Id}}', a)).slice(0, 12);
  assert.deepEqual(await resolve(b, shortA), [ipA]);
  assert.deepEqual(await resolve(b, `${a}.${net1}`), [ipA], 'name.network as Docker reads it');
  assert.ok(await pings(b, a), 'ping by name');
  // PTR: "<name>.<network>".
  const r = await docker('exec', b, 'nslookup', ipA);
  assert.match(r.stdout, new RegExp(`name = ${a}\\.${net1}`));
});

test('a container\'s first query, sent the moment its process starts, is answered (not REFUSED)', async () => {
  // The process runs before start marks the record running; the server must know the client already.
  const ipA = await ipOn(a, net1);
  for (let i = 0; i < 6; i++) {
    const r = await docker('run', '--rm', '--network', net1, '--dns', upstreamIp, 'busybox', 'nslookup', 'only-a', '127.0.0.11');
    assert.doesNotMatch(r.stdout + r.stderr, /REFUSED/, `run ${i}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`Address: ${ipA.replace(/\./g, '\\.')}`), `run ${i}`);
  }
});

test('docker build --network <user network>: a RUN step resolves the network\'s names (the classic builder\'s networkmode)', async () => {
  const ipA = await ipOn(a, net1);
  const dockerfile = `FROM busybox\nRUN ping -c1 -W2 only-a && nslookup only-a 127.0.0.11 | grep -q 'Address: ${ipA}'\n`;
  const r = await runCommand('docker', ['build', '--no-cache', '--network', net1, '-t', `dnsbuild-${sfx}`, '-'], { env, input: dockerfile, guardMs: 120_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  await ok('rmi', `dnsbuild-${sfx}`);
});

test('nslookup of an alias two containers share returns both', async () => {
  const want = [await ipOn(a, net1), await ipOn(b, net1)].sort();
  assert.deepEqual(await resolve(other, 'shared'), [], 'not from another network');
  assert.deepEqual(await resolve(a, 'shared'), want);
});

test('a container on another network can neither resolve nor reach the first network\'s containers', async () => {
  assert.deepEqual(await resolve(other, a), []);
  assert.deepEqual(await resolve(other, 'only-a'), []);
  assert.equal(await pings(other, await ipOn(a, net1)), false);
  assert.deepEqual(await resolve(a, other), []);
});

test('connect while running makes the name resolvable both ways; disconnect takes it away', async () => {
  await ok('network', 'connect', '--alias', 'late', net1, other);
  const ipO = await ipOn(other, net1);
  assert.deepEqual(await resolve(a, other), [ipO]);
  assert.deepEqual(await resolve(a, 'late'), [ipO]);
  assert.deepEqual(await resolve(other, a), [await ipOn(a, net1)]);
  await ok('network', 'disconnect', net1, other);
  assert.deepEqual(await resolve(a, other), []);
  assert.deepEqual(await resolve(a, 'late'), []);
  // Still on its own network, whose server 127.0.0.11 reaches again.
  assert.deepEqual(await resolve(other, a), []);
  assert.deepEqual(await resolve(other, other), [await ipOn(other, net2)]);
});

test('a default-bridge container connected to a user network gets 127.0.0.11; back to the host\'s resolvers when it leaves', async () => {
  const before = await ok('exec', onBridge, 'cat', '/etc/resolv.conf');
  assert.doesNotMatch(before, /127\.0\.0\.11/);
  await ok('network', 'connect', net1, onBridge);
  assert.match(await ok('exec', onBridge, 'cat', '/etc/resolv.conf'), /^nameserver 127\.0\.0\.11$/m);
  assert.deepEqual(await resolve(a, onBridge), [await ipOn(onBridge, net1)]);
  await ok('network', 'disconnect', net1, onBridge);
  assert.equal(await ok('exec', onBridge, 'cat', '/etc/resolv.conf'), before);
});

test('the default bridge keeps its resolv.conf: no 127.0.0.11 and no embedded DNS', async () => {
  const conf = await ok('run', '--rm', '--dns', upstreamIp, 'busybox', 'cat', '/etc/resolv.conf');
  assert.equal(conf, `nameserver ${upstreamIp}`);
  const plain = await ok('run', '--rm', 'busybox', 'cat', '/etc/resolv.conf');
  assert.doesNotMatch(plain, /127\.0\.0\.11/);
  // The fake upstream holds UDP 53 on the bridge's gateway; an embedded server would hold TCP 53 there too.
  assert.deepEqual(await listenersOn(upstreamIp, ['-t']), []);
});

test('names the network does not know go to the container\'s --dns; from an --internal network nothing is forwarded', async () => {
  const seen = upstreamSeen.length;
  assert.deepEqual(await resolve(a, 'external.test'), [upstreamAnswer]);
  assert.ok(upstreamSeen.slice(seen).includes('external.test'), 'the fake upstream got the query');
  const internal = `int-${sfx}`;
  await ok('network', 'create', '--internal', '--subnet', sub(2), internal);
  const i1 = `i1-${sfx}`;
  const i2 = `i2-${sfx}`;
  await ok('run', '-d', '--name', i1, '--network', internal, '--dns', upstreamIp, 'busybox', 'sleep', '600');
  await ok('run', '-d', '--name', i2, '--network', internal, '--dns', upstreamIp, 'busybox', 'sleep', '600');
  assert.deepEqual(await resolve(i1, i2), [await ipOn(i2, internal)], 'names resolve on an internal network');
  const before = upstreamSeen.length;
  assert.deepEqual(await resolve(i1, 'external.test'), []);
  assert.equal(upstreamSeen.length, before, 'nothing reached the upstream from the internal network');
  await ok('rm', '-f', i1, i2);
  await ok('network', 'rm', internal);
});

/** The addresses in the order the server gave them. */
async function resolveInOrder(ctr: string, name: string): Promise<string[]> {
  const r = await docker('exec', ctr, 'nslookup', '-type=a', name);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return [...r.stdout.split(/\nName:/).slice(1).join('\n').matchAll(/Address:\s*(\d+\.\d+\.\d+\.\d+)\s*$/gm)].map((m) => m[1]!);
}

test('docker-compose 1.29.2: a service name gives every replica, rotated per query', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dns-compose-'));
  const project = `dnsp${sfx}`;
  await writeFile(join(dir, 'docker-compose.yml'), [
    'version: "3.7"',
    'services:',
    '  web:',
    '    image: busybox',
    '    command: sleep 600',
    `    dns: [${upstreamIp}]`,
    '  client:',
    '    image: busybox',
    '    command: sleep 600',
    `    dns: [${upstreamIp}]`,
    'networks:',
    '  default:',
    '    ipam:',
    '      config:',
    `        - subnet: ${sub(8)}`,
    '',
  ].join('\n'));
  const compose = (...args: string[]): Promise<CommandResult> => runCommand('docker-compose', ['-p', project, '-f', join(dir, 'docker-compose.yml'), ...args], { env, guardMs: 180_000 });
  try {
    const up = await compose('up', '-d', '--scale', 'web=2');
    assert.equal(up.code, 0, up.stderr);
    const net = `${project}_default`;
    const replicas = [await ipOn(`${project}_web_1`, net), await ipOn(`${project}_web_2`, net)].sort();
    const first = await resolveInOrder(`${project}_client_1`, 'web');
    const second = await resolveInOrder(`${project}_client_1`, 'web');
    assert.deepEqual([...first].sort(), replicas);
    assert.deepEqual([...second].sort(), replicas);
    assert.notDeepEqual(first, second, 'the order rotates from one query to the next');
    assert.deepEqual(await resolve(`${project}_client_1`, `${project}_web_2`), [await ipOn(`${project}_web_2`, net)]);
  } finally {
    const down = await compose('down');
    await rm(dir, { recursive: true, force: true });
    assert.equal(down.code, 0, down.stderr);
  }
});

test('a legacy --link on a user network is a name only the linking container resolves', async () => {
  const l = `l-${sfx}`;
  await ok('run', '-d', '--name', l, '--network', net1, '--link', `${a}:linked-a`, '--dns', upstreamIp, 'busybox', 'sleep', '600');
  assert.deepEqual(await resolve(l, 'linked-a'), [await ipOn(a, net1)]);
  assert.deepEqual(await resolve(b, 'linked-a'), []);
  await ok('rm', '-f', l);
});

test('docker-py: containers run on a network with aliases resolve each other', async () => {
  const net = `py-${sfx}`;
  const script = `
import docker, sys
c = docker.from_env()
net, up = sys.argv[1], sys.argv[2]
n = c.networks.create(net, driver='bridge', ipam=docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=sys.argv[3])]))
try:
    x = c.containers.run('busybox', 'sleep 600', name=net + '-x', detach=True, network=net, dns=[up])
    n.disconnect(x)
    n.connect(x, aliases=['pyalias'])
    y = c.containers.run('busybox', 'sleep 600', name=net + '-y', detach=True, network=net, dns=[up])
    x.reload()
    ip = x.attrs['NetworkSettings']['Networks'][net]['IPAddress']
    for name in (net + '-x', 'pyalias', x.id[:12]):
        code, out = y.exec_run(['nslookup', '-type=a', name])
        assert code == 0 and ip in out.decode().split('Name:', 1)[1], (name, out)
    print('ok')
finally:
    for ctr in c.containers.list(all=True, filters={'name': net}):
        ctr.remove(force=True)
    n.remove()
`;
  const r = await runCommand('python3', ['-c', script, net, upstreamIp, sub(3)], { env, guardMs: 180_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'ok');
});

test('network rm stops the network\'s DNS server: nothing listens on its gateway\'s port 53', async () => {
  const net = `gone-${sfx}`;
  await ok('network', 'create', '--subnet', sub(4), net);
  assert.equal((await listenersOn(gw(sub(4)))).length, 2, 'UDP and TCP listeners while the network exists');
  await ok('run', '--rm', '--network', net, '--dns', upstreamIp, 'busybox', 'true');
  await ok('network', 'rm', net);
  assert.deepEqual(await listenersOn(gw(sub(4))), []);
  // Prune too.
  await ok('network', 'create', '--subnet', sub(5), `${net}-p`);
  assert.equal((await listenersOn(gw(sub(5)))).length, 2);
  await ok('network', 'prune', '-f');
  assert.deepEqual(await listenersOn(gw(sub(5))), []);
});

test('after kill -9 of the daemon and a new start, names still resolve', async () => {
  await d.crash();
  await d.restart();
  assert.equal((await listenersOn(gw(sub(0)))).length, 2);
  assert.deepEqual(await resolve(b, a), [await ipOn(a, net1)]);
  assert.deepEqual(await resolve(a, 'shared'), [await ipOn(a, net1), await ipOn(b, net1)].sort());
  // A container started after the restart joins in.
  await ok('run', '-d', '--name', `c-${sfx}`, '--network', net1, '--dns', upstreamIp, 'busybox', 'sleep', '600');
  assert.deepEqual(await resolve(a, `c-${sfx}`), [await ipOn(`c-${sfx}`, net1)]);
});

test('a daemon stopped with SIGTERM (containers live on) and started again answers names again', async () => {
  // A daemon of this test's own without --ephemeral, so SIGTERM leaves its containers running.
  const dir = await mkdtemp(join(tmpdir(), 'tugd-dns-'));
  const socket = join(dir, 'tug.sock');
  const bridge = `tugd${randomBytes(3).toString('hex')}`;
  const args = ['daemon', '--root', join(dir, 'root'), '--socket', socket, '--bridge', bridge, '--subnet', sub(6), '--ui-addr', '127.0.0.1:0'];
  const launch = async (extra: string[] = []): Promise<ChildProcess> => {
    const p = spawn(process.execPath, [tugBin, ...args, ...extra], { stdio: ['ignore', 'inherit', 'inherit'] });
    await waitForPing(socket);
    return p;
  };
  const term = async (p: ChildProcess): Promise<void> => {
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  };
  const saved = env;
  env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
  let p = await launch();
  try {
    const net = `t-${sfx}`;
    await ok('network', 'create', '--subnet', sub(7), net);
    await ok('run', '-d', '--name', `t1-${sfx}`, '--network', net, '--dns', upstreamIp, 'busybox', 'sleep', '600');
    await ok('run', '-d', '--name', `t2-${sfx}`, '--network', net, '--dns', upstreamIp, 'busybox', 'sleep', '600');
    const ip1 = await ipOn(`t1-${sfx}`, net);
    assert.deepEqual(await resolve(`t2-${sfx}`, `t1-${sfx}`), [ip1]);
    await term(p);
    assert.deepEqual(await listenersOn(gw(sub(7))), [], 'the stopped daemon holds no DNS socket');
    p = await launch();
    assert.equal(await ok('inspect', '-f', '{{.State.Running}}', `t1-${sfx}`), 'true');
    assert.deepEqual(await resolve(`t2-${sfx}`, `t1-${sfx}`), [ip1]);
    await term(p);
  } finally {
    // Once more with --ephemeral: its shutdown removes every container, network and bridge it has.
    if (p.exitCode === null) await term(p);
    const last = await launch(['--ephemeral']);
    await term(last);
    env = saved;
    await rm(dir, { recursive: true, force: true });
  }
});
