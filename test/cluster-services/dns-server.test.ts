// The cluster DNS server on its own: answers from a fixed cluster view over UDP
// and TCP, NXDOMAIN inside the cluster domain, and forwarding of other names
// to a fake upstream started here on loopback (no query leaves the host).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { randomInt } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import { startDnsServer } from '../../src/node/dns/dns-server.js';
import type { ClusterView } from '../../src/node/dns/cluster-resolver.js';
import { podResolvConf, upstreamsOf } from '../../src/node/dns/resolv-conf.js';
import { PodDns } from '../../src/node/dns/pod-dns.js';
import type { KubeObject } from '../../src/kube/client/kube-client.js';

const svc = (ns: string, name: string, clusterIP: string, ports: object[] = [{ name: 'http', port: 80, protocol: 'TCP' }]): KubeObject => ({ metadata: { namespace: ns, name }, spec: { clusterIP, ports } });
const services = [svc('shop', 'web', '10.96.0.20'), svc('shop', 'db', 'None', [{ name: 'pg', port: 5432, protocol: 'TCP' }])];
const view: ClusterView = {
  service: (ns, name) => services.find((s) => s.metadata.namespace === ns && s.metadata.name === name),
  services: () => services,
  backends: (ns, name) =>
    ns === 'shop' && name === 'db'
      ? [{ name: 'pg', protocol: 'TCP', port: 5432, addresses: [{ ip: '10.89.0.7', ready: true, hostname: 'db-0' }, { ip: '10.89.0.8', ready: true }, { ip: '10.89.0.9', ready: false }] }]
      : [],
};

function udpQuery(host: string, port: number, name: string, type: dnsPacket.RecordType): Promise<dnsPacket.Packet> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`no answer for ${name}`));
    }, 10_000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(dnsPacket.decode(m));
    });
    s.send(dnsPacket.encode({ type: 'query', id: randomInt(1, 65535), flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] }), port, host);
  });
}

function tcpQuery(host: string, port: number, name: string, type: dnsPacket.RecordType): Promise<dnsPacket.Packet> {
  return new Promise((resolve, reject) => {
    const s = connect(port, host, () => s.write(dnsPacket.streamEncode({ type: 'query', id: 7, questions: [{ type, name }] })));
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        s.end();
        resolve(dnsPacket.streamDecode(buf));
      }
    });
    s.on('error', reject);
  });
}

const dataOf = (x: dnsPacket.Answer): unknown => (x as { data?: unknown }).data;
const rcode = (p: dnsPacket.Packet): string | undefined => (p as { rcode?: string }).rcode;

test('cluster names: A for ClusterIP and headless, SRV, PTR, NXDOMAIN, over UDP and TCP; other names forwarded upstream', async () => {
  const host = `127.0.${randomInt(1, 250)}.${randomInt(2, 250)}`;
  // A fake upstream resolver on loopback that answers every A query with 192.0.2.99.
  const upstream = createSocket('udp4');
  upstream.on('message', (m, r) => {
    const q = dnsPacket.decode(m);
    upstream.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers: [{ type: 'A', name: q.questions![0].name, ttl: 60, data: '192.0.2.99' }] }), r.port, r.address);
  });
  await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
  const dns = await startDnsServer({ host, port: 0, view, upstreams: [`127.0.0.1:${upstream.address().port}`] });
  try {
    const a = await udpQuery(host, dns.port, 'web.shop.svc.cluster.local', 'A');
    assert.equal(rcode(a), 'NOERROR');
    assert.deepEqual(a.answers!.map(dataOf), ['10.96.0.20']);
    const t = await tcpQuery(host, dns.port, 'web.shop.svc.cluster.local', 'A');
    assert.deepEqual(t.answers!.map(dataOf), ['10.96.0.20']);

    const headless = await udpQuery(host, dns.port, 'db.shop.svc.cluster.local', 'A');
    assert.deepEqual(headless.answers!.map(dataOf).sort(), ['10.89.0.7', '10.89.0.8'], 'ready pod IPs only');
    const pod = await udpQuery(host, dns.port, 'db-0.db.shop.svc.cluster.local', 'A');
    assert.deepEqual(pod.answers!.map(dataOf), ['10.89.0.7']);

    const srv = await udpQuery(host, dns.port, '_http._tcp.web.shop.svc.cluster.local', 'SRV');
    assert.deepEqual(srv.answers!.map(dataOf), [{ priority: 0, weight: 100, port: 80, target: 'web.shop.svc.cluster.local' }]);
    const ptr = await udpQuery(host, dns.port, '20.0.96.10.in-addr.arpa', 'PTR');
    assert.deepEqual(ptr.answers!.map(dataOf), ['web.shop.svc.cluster.local']);

    for (const name of ['nosuch.shop.svc.cluster.local', 'web.other.svc.cluster.local', 'web.shop.cluster.local']) {
      const nx = await udpQuery(host, dns.port, name, 'A');
      assert.equal(rcode(nx), 'NXDOMAIN', name);
      assert.equal(nx.answers!.length, 0);
    }
    const aaaa = await udpQuery(host, dns.port, 'web.shop.svc.cluster.local', 'AAAA');
    assert.equal(rcode(aaaa), 'NOERROR', 'the name exists, it just has no AAAA');
    assert.equal(aaaa.answers!.length, 0);

    const fwd = await udpQuery(host, dns.port, 'example.test', 'A');
    assert.equal(rcode(fwd), 'NOERROR');
    assert.deepEqual(fwd.answers!.map(dataOf), ['192.0.2.99']);
    const fwdTcp = await tcpQuery(host, dns.port, 'example.test', 'A');
    assert.deepEqual(fwdTcp.answers!.map(dataOf), ['192.0.2.99'], 'TCP queries are forwarded too');
  } finally {
    await dns.close();
    upstream.close();
  }
});

test('an unanswering upstream gives SERVFAIL, not silence', async () => {
  const host = `127.0.${randomInt(1, 250)}.${randomInt(2, 250)}`;
  const dead = createSocket('udp4');
  await new Promise<void>((r) => dead.bind(0, '127.0.0.1', () => r()));
  const dns = await startDnsServer({ host, port: 0, view, upstreams: [`127.0.0.1:${dead.address().port}`], forwardTimeoutMs: 300 });
  try {
    assert.equal(rcode(await udpQuery(host, dns.port, 'example.test', 'A')), 'SERVFAIL');
  } finally {
    await dns.close();
    dead.close();
  }
});

test('pod resolv.conf: cluster nameserver, namespace search path, ndots:5; upstreams skip loopback', () => {
  assert.equal(podResolvConf('shop', '10.96.0.10'), 'search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
  assert.deepEqual(upstreamsOf('nameserver 127.0.0.53\nnameserver 192.0.2.53\n# c\nsearch x\n'), ['192.0.2.53']);
  const dns = new PodDns();
  dns.setClusterDns('10.96.0.10');
  assert.deepEqual(dns.hostConfig({ metadata: { namespace: 'shop' }, spec: {} }), { Dns: ['10.96.0.10'], DnsSearch: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], DnsOptions: ['ndots:5'] });
  assert.deepEqual(dns.hostConfig({ metadata: { namespace: 'shop' }, spec: { dnsPolicy: 'Default' } }), {}, 'dnsPolicy Default keeps the host resolvers');
  assert.deepEqual(dns.hostConfig({ metadata: { namespace: 'shop' }, spec: { hostNetwork: true } }), {});
});
