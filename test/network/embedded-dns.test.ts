// The embedded DNS of user-defined networks with real parts and no daemon: a
// bridge, gateway and namespaces made here (embedded-dns-lab.ts), the server
// on the gateway's port 53, the 127.0.0.11 redirect installed in each
// namespace, and lookups from inside them with busybox nslookup, glibc's
// getent through a resolv.conf that says 127.0.0.11, and raw queries over UDP
// and TCP. Names outside the network go to a fake upstream on loopback that
// this test starts (no query leaves the host).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dnsPacket from 'dns-packet';
import { listenDns } from '../../src/network/dns/dns-listener.js';
import { encodeReply } from '../../src/network/dns/dns-reply.js';
import {
  EmbeddedDnsServers,
  installDnsRedirect,
  removeDnsRedirect,
  startEmbeddedDnsServer,
  userNetworkResolvConf,
  type EmbeddedDnsBackend,
  type EmbeddedDnsClient,
} from '../../src/network/embedded-dns/index.js';
import { runTool } from '../../src/util/exec-file.js';
import { makeLab, type LabNetns } from './embedded-dns-lab.js';

const dnsPacketPath = createRequire(import.meta.url).resolve('dns-packet');

interface Reply {
  rcode?: string;
  aa?: boolean;
  ra?: boolean;
  rd?: boolean;
  error?: string;
  answers?: Array<{ type: string; name: string; ttl: number; data: unknown }>;
}

// Runs inside the namespace: `count` queries one after another, each on its own socket.
const QUERY_SCRIPT = `
const dp = require(process.argv[1]);
const [server, name, type, proto, count] = process.argv.slice(2);
const pick = (p) => ({ rcode: p.rcode, aa: p.flag_aa, ra: p.flag_ra, rd: p.flag_rd, answers: (p.answers || []).map((a) => ({ type: a.type, name: a.name, ttl: a.ttl, data: a.data })) });
function ask(i) {
  const q = dp.encode({ type: 'query', id: 1000 + i, flags: dp.RECURSION_DESIRED, questions: [{ type, name }] });
  return new Promise((res) => {
    const guard = setTimeout(() => res({ error: 'no answer' }), 10000);
    const done = (r) => { clearTimeout(guard); res(r); };
    if (proto === 'udp') {
      const s = require('dgram').createSocket('udp4');
      s.on('message', (m) => { s.close(); done(pick(dp.decode(m))); });
      s.send(q, 53, server);
    } else {
      const c = require('net').connect(53, server);
      let b = Buffer.alloc(0);
      c.on('error', (e) => done({ error: e.code }));
      c.on('connect', () => { const l = Buffer.alloc(2); l.writeUInt16BE(q.length); c.write(Buffer.concat([l, q])); });
      c.on('data', (d) => { b = Buffer.concat([b, d]); if (b.length >= 2 && b.length >= 2 + b.readUInt16BE(0)) { c.destroy(); done(pick(dp.decode(b.subarray(2)))); } });
    }
  });
}
(async () => { const out = []; for (let i = 0; i < Number(count); i++) out.push(await ask(i)); console.log(JSON.stringify(out)); })();
`;

async function query(ns: LabNetns, name: string, type: string, o: { tcp?: boolean; count?: number; server?: string } = {}): Promise<Reply[]> {
  const r = await runTool('nsenter', [`--net=${ns.path}`, process.execPath, '-e', QUERY_SCRIPT, dnsPacketPath, o.server ?? '127.0.0.11', name, type, o.tcp ? 'tcp' : 'udp', String(o.count ?? 1)]);
  return JSON.parse(r.stdout) as Reply[];
}
const one = async (ns: LabNetns, name: string, type: string, o: { tcp?: boolean; server?: string } = {}): Promise<Reply> => (await query(ns, name, type, o))[0]!;
const addrs = (r: Reply): unknown[] => (r.answers ?? []).map((a) => a.data);

/** A fake upstream resolver on loopback: example.test is 192.0.2.7, anything else NXDOMAIN (with authority, so it is final). */
async function fakeUpstream() {
  const seen: Array<{ name: string; type: string; tcp: boolean }> = [];
  const listener = await listenDns({
    host: '127.0.0.1',
    port: 0,
    handle: async (msg, ctx) => {
      const q = dnsPacket.decode(msg);
      const question = q.questions![0]!;
      seen.push({ name: question.name, type: question.type, tcp: ctx.tcp });
      if (question.name === 'example.test' && question.type === 'A') {
        return encodeReply(q, { rcode: 'NOERROR', answers: [{ type: 'A', name: question.name, ttl: 30, data: '192.0.2.7' }], authoritative: true, tcp: ctx.tcp });
      }
      return encodeReply(q, { rcode: 'NXDOMAIN', authoritative: true, tcp: ctx.tcp });
    },
  });
  return { address: `127.0.0.1:${listener.port}`, seen, close: () => listener.close() };
}

test('embedded DNS on a hand-made bridge: names, aliases and replicas, PTR, AAAA, forwarding, REFUSED, redirect and lifecycle', async () => {
  const lab = await makeLab();
  const upstream = await fakeUpstream();
  let servers: EmbeddedDnsServers<EmbeddedDnsClient & { name: string }> | undefined;
  const resolvDir = await mkdtemp(join(tmpdir(), 'tug-dns-resolv-'));
  try {
    const a = await lab.addNetns(2); // web-1: a replica of "web"
    const b = await lab.addNetns(3); // web-2: a replica of "web", its resolv.conf sets ndots
    const d = await lab.addNetns(5); // db: on an --internal network (no upstreams)
    const stranger = await lab.addNetns(9); // not a container of the network
    const third = `${lab.prefix}7`; // a third replica that only needs an address
    const network = 'net-under-test';
    const clients = new Map<string, EmbeddedDnsClient & { name: string }>([
      [a.ip, { name: 'web-1', upstreams: [upstream.address] }],
      [b.ip, { name: 'web-2', upstreams: [upstream.address], ndotsSet: true }],
      [d.ip, { name: 'db', upstreams: [] }],
    ]);
    const names: Record<string, string[]> = { web: [a.ip, b.ip, third], 'web-1': [a.ip], 'web-2': [b.ip], db: [d.ip], '0123456789ab': [d.ip] };
    const lookups: string[] = [];
    const backend: EmbeddedDnsBackend<EmbeddedDnsClient & { name: string }> = {
      clientOf: (n, ip) => (n === network ? clients.get(ip) : undefined),
      lookup: (n, name) => {
        lookups.push(name);
        return n === network ? (names[name] ?? []) : [];
      },
      reverse: (n, ip) => [...clients.entries()].find(([cip]) => cip === ip)?.[1].name.concat(`.${n}`),
    };
    servers = new EmbeddedDnsServers({ backend });

    const server = await servers.ensure(network, lab.gateway);
    assert.equal(await servers.ensure(network, lab.gateway), server, 'ensure is idempotent');
    assert.equal(server.port, 53);
    for (const ns of [a, b, d, stranger]) await installDnsRedirect(ns.path, lab.gateway, 'eth0');
    await installDnsRedirect(a.path, lab.gateway, 'eth0'); // twice: still one set of rules
    const nat = (await runTool('nsenter', [`--net=${a.path}`, 'iptables', '-w', '-t', 'nat', '-S'])).stdout;
    assert.equal(nat.split('\n').filter((l) => l === '-A OUTPUT -j TUG-DNS-OUTPUT').length, 1, nat);

    // busybox nslookup through 127.0.0.11: a replicated service name and a container name.
    const bb = await runTool('nsenter', [`--net=${a.path}`, 'busybox', 'nslookup', 'web', '127.0.0.11'], { allowFailure: true });
    for (const ip of names.web!) assert.ok(bb.stdout.includes(`Address: ${ip}`), bb.stdout + bb.stderr);
    const bbDb = await runTool('nsenter', [`--net=${a.path}`, 'busybox', 'nslookup', 'db', '127.0.0.11'], { allowFailure: true });
    assert.ok(bbDb.stdout.includes(`Address: ${d.ip}`), bbDb.stdout + bbDb.stderr);
    // ... and a name the network does not know, answered by the upstream.
    const bbFwd = await runTool('nsenter', [`--net=${a.path}`, 'busybox', 'nslookup', 'example.test', '127.0.0.11'], { allowFailure: true });
    assert.ok(bbFwd.stdout.includes('Address: 192.0.2.7'), bbFwd.stdout + bbFwd.stderr);

    // glibc's resolver through the resolv.conf Docker writes on a user network.
    const resolvConf = userNetworkResolvConf({ hostResolvConf: 'nameserver 192.0.2.53\n' });
    assert.equal(resolvConf, 'nameserver 127.0.0.11\noptions ndots:0\n');
    const resolvPath = join(resolvDir, 'resolv.conf');
    await writeFile(resolvPath, resolvConf);
    const getent = await runTool('unshare', ['-m', 'sh', '-c', 'mount --bind "$1" /etc/resolv.conf && exec nsenter --net="$2" getent ahostsv4 "$3"', 'sh', resolvPath, a.path, 'web-2']);
    assert.match(getent.stdout, new RegExp(`^${b.ip.replace(/\./g, '\\.')}\\s+STREAM web-2$`, 'm'), getent.stdout);
    const getentSvc = await runTool('unshare', ['-m', 'sh', '-c', 'mount --bind "$1" /etc/resolv.conf && exec nsenter --net="$2" getent ahostsv4 "$3"', 'sh', resolvPath, b.path, 'web']);
    assert.deepEqual(new Set([...getentSvc.stdout.matchAll(/^(\S+)\s+STREAM/gm)].map((m) => m[1])), new Set(names.web), getentSvc.stdout);

    // A: Docker's header and TTL, every replica, rotated by one on each query.
    const rounds = await query(a, 'web', 'A', { count: 4 });
    for (const r of rounds) {
      assert.equal(r.rcode, 'NOERROR');
      assert.deepEqual({ aa: r.aa, ra: r.ra, rd: r.rd }, { aa: false, ra: true, rd: true });
      assert.deepEqual(new Set(addrs(r)), new Set(names.web));
      assert.ok(r.answers!.every((x) => x.ttl === 600 && x.name === 'web'));
    }
    for (let i = 1; i < rounds.length; i++) {
      const prev = addrs(rounds[i - 1]!);
      assert.deepEqual(addrs(rounds[i]!), [...prev.slice(1), prev[0]], 'each query starts one replica further');
    }
    // Names are case-insensitive; the answer keeps the name as asked. Short ids resolve like names.
    const upper = await one(a, 'WEB-2', 'A');
    assert.deepEqual(addrs(upper), [b.ip]);
    assert.equal(upper.answers![0]!.name, 'WEB-2');
    assert.deepEqual(addrs(await one(a, '0123456789ab', 'A')), [d.ip]);

    // TCP too, for local names and forwarded ones (forwarded over TCP, as the client asked).
    assert.deepEqual(addrs(await one(a, 'db', 'A', { tcp: true })), [d.ip]);
    const before = upstream.seen.length;
    assert.deepEqual(addrs(await one(a, 'example.test', 'A', { tcp: true })), ['192.0.2.7']);
    assert.deepEqual(upstream.seen.slice(before), [{ name: 'example.test', type: 'A', tcp: true }]);

    // AAAA and MX of a known name: empty NOERROR, never asked upstream.
    const seenBefore = upstream.seen.length;
    for (const type of ['AAAA', 'MX']) {
      const r = await one(a, 'web', type);
      assert.deepEqual({ rcode: r.rcode, answers: r.answers }, { rcode: 'NOERROR', answers: [] }, type);
    }
    assert.equal(upstream.seen.length, seenBefore, 'known names never go upstream');

    // PTR for a container's address; an unknown address goes upstream.
    const ptrName = (ip: string) => `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
    const ptr = await one(a, ptrName(b.ip), 'PTR');
    assert.deepEqual(ptr.answers, [{ type: 'PTR', name: ptrName(b.ip), ttl: 600, data: `web-2.${network}` }]);
    const ptrUnknown = await one(a, ptrName(`${lab.prefix}99`), 'PTR');
    assert.equal(ptrUnknown.rcode, 'NXDOMAIN');
    assert.ok(upstream.seen.some((s) => s.name === ptrName(`${lab.prefix}99`)));

    // Unknown names: forwarded (single-label too, as Docker), the upstream's NXDOMAIN relayed...
    const nx = await one(a, 'nosuchname', 'A');
    assert.equal(nx.rcode, 'NXDOMAIN');
    assert.ok(upstream.seen.some((s) => s.name === 'nosuchname'));
    // ... except single-label names from a client that set ndots itself: empty, so it tries its search domains.
    const ndots = await one(b, 'otherlabel', 'A');
    assert.deepEqual({ rcode: ndots.rcode, answers: ndots.answers }, { rcode: 'NOERROR', answers: [] });
    assert.ok(!upstream.seen.some((s) => s.name === 'otherlabel'));
    // A client without upstreams (an --internal network) cannot go out: SERVFAIL.
    assert.equal((await one(d, 'example.test', 'A')).rcode, 'SERVFAIL');
    assert.deepEqual(addrs(await one(d, 'web-1', 'A')), [a.ip], 'local names still work there');

    // Strangers are refused, over both transports, without a lookup.
    const lookupsBefore = lookups.length;
    assert.equal((await one(stranger, 'web', 'A')).rcode, 'REFUSED');
    assert.equal((await one(stranger, 'example.test', 'A', { tcp: true })).rcode, 'REFUSED');
    assert.equal(lookups.length, lookupsBefore);

    // A second server on a taken gateway:53 says who holds it; an address no interface has is named as such.
    await assert.rejects(startEmbeddedDnsServer({ networkId: 'other', gatewayIp: lab.gateway, backend }), (err: Error) => {
      assert.match(err.message, new RegExp(`${lab.gateway.replace(/\./g, '\\.')}:53 is already in use by .*\\(pid ${process.pid}\\)`));
      return true;
    });
    await assert.rejects(startEmbeddedDnsServer({ networkId: 'other', gatewayIp: `${lab.prefix}250`, backend }), /not on any interface/);

    // The redirect comes out again: no chains left, and 127.0.0.11:53 is nobody's.
    await removeDnsRedirect(a.path, 'eth0');
    const left = (await runTool('nsenter', [`--net=${a.path}`, 'sh', '-c', 'iptables -w -t nat -S; iptables -w -S'])).stdout;
    assert.doesNotMatch(left, /TUG-DNS/);
    assert.deepEqual(await one(a, 'web', 'A', { tcp: true }), { error: 'ECONNREFUSED' });

    // stop() frees both sockets at once: the port can be bound again.
    await servers.stop(network);
    await servers.stop(network); // stopping twice is fine
    assert.equal(servers.get(network), undefined);
    const u = createSocket('udp4');
    await new Promise<void>((res, rej) => {
      u.once('error', rej);
      u.bind(53, lab.gateway, () => res());
    });
    await new Promise<void>((r) => u.close(() => r()));
    const t = createServer();
    await new Promise<void>((res, rej) => {
      t.once('error', rej);
      t.listen(53, lab.gateway, () => res());
    });
    await new Promise<void>((r) => t.close(() => r()));
  } finally {
    await servers?.closeAll();
    await upstream.close();
    await lab.destroy();
    await rm(resolvDir, { recursive: true, force: true });
  }
  const leftover = await runTool('ip', ['link', 'show', lab.bridge], { allowFailure: true });
  assert.notEqual(leftover.code, 0, 'the bridge is gone');
});

test("the redirect's route_localnet does not open a container's loopback to its neighbours on the bridge", async () => {
  const lab = await makeLab();
  let service: ReturnType<typeof spawn> | undefined;
  try {
    const a = await lab.addNetns(2);
    const b = await lab.addNetns(3);
    for (const ns of [a, b]) await installDnsRedirect(ns.path, lab.gateway, 'eth0');
    // A service A keeps to itself on 127.0.0.1.
    service = spawn('nsenter', [`--net=${a.path}`, process.execPath, '-e', "require('net').createServer((s) => s.end('SECRET')).listen(7777, '127.0.0.1', () => console.log('up'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((r) => service!.stdout!.once('data', () => r()));
    // B (root in its own namespace) routes 127.0.0.1 out of eth0 to A, ahead of its local table.
    const probe = `ip rule add to 127.0.0.1 lookup 100 pref 10
ip rule add pref 100 lookup local
ip rule del pref 0
ip route add 127.0.0.1/32 via "$1" dev eth0 table 100 onlink
busybox nc -w 2 127.0.0.1 7777 </dev/null || true`;
    const attempt = await runTool('nsenter', [`--net=${b.path}`, 'sh', '-c', probe, 'sh', a.ip]);
    assert.doesNotMatch(attempt.stdout, /SECRET/);
    const counters = (await runTool('nsenter', [`--net=${a.path}`, 'iptables', '-w', '-L', 'TUG-DNS-INPUT', '-v', '-x', '-n'])).stdout;
    const dropped = Number(/^\s*(\d+)\s+\d+\s+DROP/m.exec(counters)?.[1] ?? 0);
    assert.ok(dropped > 0, counters);
    // The probe does reach A's loopback once the guard is gone: it is the rule that stops it.
    await runTool('nsenter', [`--net=${a.path}`, 'iptables', '-w', '-D', 'INPUT', '-j', 'TUG-DNS-INPUT']);
    const open = await runTool('nsenter', [`--net=${b.path}`, 'busybox', 'nc', '-w', '2', '127.0.0.1', '7777'], { input: '' });
    assert.match(open.stdout, /SECRET/);
  } finally {
    service?.kill('SIGKILL');
    await lab.destroy();
  }
});

test('installing the redirect again points 127.0.0.11 at another gateway (a container that left the network its DNS went to)', async () => {
  const lab = await makeLab();
  const servers: Array<{ close(): Promise<void> }> = [];
  try {
    const a = await lab.addNetns(2);
    const second = `${lab.prefix}254`;
    await runTool('ip', ['addr', 'add', `${second}/24`, 'dev', lab.bridge]);
    // Two networks' servers, each knowing "svc" by a different address.
    for (const [networkId, gatewayIp, answer] of [['first', lab.gateway, '192.0.2.1'], ['second', second, '192.0.2.2']] as const) {
      servers.push(
        await startEmbeddedDnsServer({
          networkId,
          gatewayIp,
          backend: { clientOf: (_n, ip) => (ip === a.ip ? { upstreams: [] } : undefined), lookup: (_n, name) => (name === 'svc' ? [answer] : []) },
        }),
      );
    }
    await installDnsRedirect(a.path, lab.gateway, 'eth0');
    assert.deepEqual(addrs(await one(a, 'svc', 'A')), ['192.0.2.1']);
    await installDnsRedirect(a.path, second, 'eth0');
    assert.deepEqual(addrs(await one(a, 'svc', 'A')), ['192.0.2.2']);
    assert.deepEqual(addrs(await one(a, 'svc', 'A', { tcp: true })), ['192.0.2.2']);
    const rules = (await runTool('nsenter', [`--net=${a.path}`, 'iptables', '-w', '-t', 'nat', '-S', 'TUG-DNS-OUTPUT'])).stdout;
    assert.doesNotMatch(rules, new RegExp(`${lab.gateway.replace(/\./g, '\\.')}:53`), 'nothing left pointing at the first gateway');
  } finally {
    for (const s of servers) await s.close();
    await lab.destroy();
  }
});
