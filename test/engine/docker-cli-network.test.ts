// The real docker CLI against a tug daemon: published ports (TCP and UDP),
// host and none networks, container-to-container traffic on the bridge, NAT.
// Traffic goes only to 127.0.0.1 and to addresses on the test's own bridge.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
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

/** A loopback port nobody holds right now (the kernel picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function httpGet(port: number): Promise<{ status: number; body: string } | null> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

/** httpd needs a moment to listen after `docker run -d` returns: retry a bounded number of times. */
async function fetchUntilServed(port: number): Promise<{ status: number; body: string }> {
  for (let i = 0; i < 100; i++) {
    const r = await httpGet(port);
    if (r) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`nothing answered on 127.0.0.1:${port}`);
}

const lines = (s: string): string[] => s.split('\n').filter(Boolean);
const webCmd = (text: string): string[] => ['sh', '-c', `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`];

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.stop();
});

test('-p 127.0.0.1:HOST:80 reaches a busybox httpd from the host', async () => {
  const name = `web-${sfx}`;
  const port = await freePort();
  await ok('run', '-d', '--name', name, '-p', `127.0.0.1:${port}:80`, 'busybox', ...webCmd(`hello-${sfx}`));
  assert.equal(await ok('port', name, '80'), `127.0.0.1:${port}`);
  const r = await fetchUntilServed(port);
  assert.equal(r.status, 200);
  assert.equal(r.body, `hello-${sfx}\n`);
  await ok('rm', '-f', name);
  assert.equal(await httpGet(port), null, 'the published port should be closed after rm -f');
});

test('-P publishes exposed ports on a port shown by docker port', async () => {
  const name = `pub-${sfx}`;
  await ok('run', '-d', '--name', name, '-P', '--expose', '80', 'busybox', ...webCmd(`all-${sfx}`));
  const line = await ok('port', name, '80/tcp');
  const m = /^0\.0\.0\.0:(\d+)$/m.exec(line);
  assert.ok(m, `docker port printed: ${line}`);
  const r = await fetchUntilServed(Number(m[1]));
  assert.equal(r.body, `all-${sfx}\n`);
  await ok('rm', '-f', name);
});

test('--network host sees host interfaces; --network none has only lo', async () => {
  const hostLinks = await ok('run', '--rm', '--network', 'host', 'busybox', 'ip', '-o', 'link');
  assert.ok(hostLinks.includes(`${d.bridge}:`), `host network should show the test bridge ${d.bridge}`);
  const none = await ok('run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ip -o link | cut -d: -f2 | tr -d " "');
  assert.equal(none, 'lo');
});

test('two containers reach each other by IP on the bridge; outbound NAT rule exists', async () => {
  const srv = `srv-${sfx}`;
  await ok('run', '-d', '--name', srv, 'busybox', ...webCmd(`peer-${sfx}`));
  const ip = await ok('inspect', '-f', '{{.NetworkSettings.IPAddress}}', srv);
  const gw = await ok('inspect', '-f', '{{.NetworkSettings.Gateway}}', srv);
  assert.match(ip, /^10\.\d+\.\d+\.\d+$/);
  const route = await runTool('ip', ['-o', 'route', 'get', ip]);
  assert.ok(route.stdout.includes(`dev ${d.bridge}`), `route to ${ip} should use ${d.bridge}: ${route.stdout}`);
  const got = await ok('run', '--rm', 'busybox', 'sh', '-c', `for i in $(seq 1 50); do wget -q -O - http://${ip}/ && exit 0; sleep 0.2; done; exit 1`);
  assert.equal(got, `peer-${sfx}`);
  assert.match(await ok('exec', srv, 'ip', 'route'), new RegExp(`default via ${gw.replace(/\./g, '\\.')}`));

  const nat = (await runTool('iptables', ['-t', 'nat', '-S'])).stdout.split('\n');
  // One rule per network (not per container): the bridge's subnet goes to the network's masquerade chain.
  const jump = nat.find((l) => l.startsWith('-A POSTROUTING') && l.endsWith(`-j TUG-MASQ-${d.bridge}`));
  assert.ok(jump, `no POSTROUTING rule for network ${d.bridge}`);
  assert.ok(!nat.some((l) => l.includes(`${ip}/32`)), `a per-container rule names ${ip}`);
  const chain = /-j (\S+)/.exec(jump)![1]!;
  assert.ok(nat.some((l) => l.startsWith(`-A ${chain} `) && l.includes('MASQUERADE')), `chain ${chain} has no MASQUERADE`);
  await ok('rm', '-f', srv);
});

test('published UDP port delivers datagrams to the container', async () => {
  const name = `udp-${sfx}`;
  const port = await freePort();
  // busybox has no UDP server: run the host's socat inside the container's network namespace.
  await ok(
    'run', '-d', '--name', name, '-p', `127.0.0.1:${port}:5353/udp`,
    '-v', '/usr:/host/usr:ro', '-v', '/lib:/host/lib:ro', '-v', '/lib64:/host/lib64:ro', '-v', '/bin:/host/bin:ro',
    'busybox', 'chroot', '/host', '/usr/bin/socat', '-u', 'UDP-RECV:5353', 'STDOUT',
  );
  assert.equal(await ok('port', name, '5353/udp'), `127.0.0.1:${port}`);
  const sock = createSocket('udp4');
  let logs = '';
  try {
    for (let i = 0; i < 50 && !logs.includes(`udp-${sfx}`); i++) {
      await new Promise<void>((res, rej) => sock.send(`udp-${sfx}\n`, port, '127.0.0.1', (err) => (err ? rej(err) : res())));
      await new Promise((res) => setTimeout(res, 200));
      logs = (await docker('logs', name)).stdout;
    }
  } finally {
    sock.close();
  }
  assert.ok(logs.includes(`udp-${sfx}`), `container never got the datagram: ${logs}`);
  await ok('rm', '-f', name);
});

test('network ls and inspect show the bridge with its subnet and members', async () => {
  const names = lines(await ok('network', 'ls', '--format', '{{.Name}} {{.Driver}}'));
  assert.deepEqual(names.sort(), ['bridge bridge', 'host host', 'none null']);
  const name = `member-${sfx}`;
  const id = await ok('run', '-d', '--name', name, 'busybox', 'sleep', '300');
  assert.equal(await ok('network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', 'bridge'), d.subnet);
  const members = JSON.parse(await ok('network', 'inspect', '-f', '{{json .Containers}}', 'bridge')) as Record<string, { Name: string }>;
  assert.equal(members[id]?.Name, name);
  await ok('rm', '-f', name);
});
