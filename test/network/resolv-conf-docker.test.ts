// resolv.conf as dockerd 20.10 writes it, without a daemon. The expected texts
// for the host file "nameserver 10.255.255.53\n" were read from containers of
// a real dockerd (`docker run --rm [--network X] FLAGS busybox cat
// /etc/resolv.conf`); the others follow libnetwork's setupDNS/rebuildDNS for
// host files dockerd's machine did not have (loopback stubs, IPv6, none).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sandboxResolvConf } from '../../src/network/dns/sandbox-resolv-conf.js';
import { userNetworkDns } from '../../src/network/embedded-dns/resolv-conf.js';
import { nameCandidates } from '../../src/network/embedded-dns/name-candidates.js';

const HOST = 'nameserver 10.255.255.53\n';

const flagCases: Array<{ flags: { servers?: string[]; search?: string[]; options?: string[] }; bridge: string; user: string }> = [
  { flags: {}, bridge: HOST, user: 'nameserver 127.0.0.11\noptions ndots:0\n' },
  { flags: { servers: ['1.2.3.4'] }, bridge: 'nameserver 1.2.3.4\n', user: 'nameserver 127.0.0.11\noptions ndots:0\n' },
  { flags: { search: ['a.example'] }, bridge: 'search a.example\nnameserver 10.255.255.53\n', user: 'search a.example\nnameserver 127.0.0.11\noptions ndots:0\n' },
  { flags: { options: ['ndots:3'] }, bridge: 'nameserver 10.255.255.53\noptions ndots:3\n', user: 'nameserver 127.0.0.11\noptions ndots:3\n' },
  { flags: { search: ['.'] }, bridge: 'nameserver 10.255.255.53\n', user: 'nameserver 127.0.0.11\noptions ndots:0\n' },
  { flags: { options: ['ndots:3', 'edns0'] }, bridge: 'nameserver 10.255.255.53\noptions ndots:3 edns0\n', user: 'nameserver 127.0.0.11\noptions ndots:3 edns0\n' },
  {
    flags: { servers: ['1.2.3.4', '5.6.7.8'], search: ['x.y', 'z.w'] },
    bridge: 'search x.y z.w\nnameserver 1.2.3.4\nnameserver 5.6.7.8\n',
    user: 'search x.y z.w\nnameserver 127.0.0.11\noptions ndots:0\n',
  },
];

test('--dns, --dns-search, --dns-option: the default bridge and a user-defined network, as dockerd writes them', () => {
  for (const c of flagCases) {
    assert.equal(sandboxResolvConf(HOST, c.flags).text, c.bridge, JSON.stringify(c.flags));
    const user = userNetworkDns({ dnsServers: c.flags.servers, dnsSearch: c.flags.search, dnsOptions: c.flags.options, hostResolvConf: HOST });
    assert.equal(user.resolvConf, c.user, JSON.stringify(c.flags));
    assert.deepEqual(user.upstreams, c.flags.servers ?? ['10.255.255.53']);
    assert.equal(user.ndotsSet, Boolean(c.flags.options?.some((o) => o.startsWith('ndots'))));
  }
});

test('host files with loopback stubs, IPv6 and comments; no host file at all', () => {
  // The default bridge drops loopback nameservers (with their line) and keeps the rest as it is.
  assert.equal(sandboxResolvConf('# generated\nnameserver 127.0.0.1\nnameserver 192.0.2.1\nsearch example.com\n', {}).text, '# generated\nnameserver 192.0.2.1\nsearch example.com\n');
  // IPv6 nameservers go too (the bridge has no IPv6); nothing left means Google's resolvers.
  assert.equal(sandboxResolvConf('nameserver 127.0.0.53\n', {}).text, '\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(sandboxResolvConf('nameserver 2001:db8::1\nnameserver 192.0.2.1\n', {}).text, 'nameserver 192.0.2.1\n');
  assert.equal(sandboxResolvConf(undefined, {}).text, '\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  // With the host's network the file is the host's own.
  assert.equal(sandboxResolvConf('nameserver 127.0.0.53\n', {}, true).text, 'nameserver 127.0.0.53\n');

  // A user network behind systemd-resolved: the host's search and options, ndots:0 added, and the
  // stub as upstream (the embedded server runs in the host's namespace, where the stub answers).
  const stub = userNetworkDns({ hostResolvConf: 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n' });
  assert.equal(stub.resolvConf, 'search lan\nnameserver 127.0.0.11\noptions edns0 trust-ad ndots:0\n');
  assert.deepEqual(stub.upstreams, ['127.0.0.53']);
  // The host's own ndots counts as set.
  const hostNdots = userNetworkDns({ hostResolvConf: 'nameserver 192.0.2.1\noptions ndots:2\n' });
  assert.equal(hostNdots.resolvConf, 'nameserver 127.0.0.11\noptions ndots:2\n');
  assert.equal(hostNdots.ndotsSet, true);
  // No host file: Google's resolvers upstream. At most three upstreams, as Docker.
  assert.deepEqual(userNetworkDns({ hostResolvConf: undefined }).upstreams, ['8.8.8.8', '8.8.4.4']);
  assert.deepEqual(userNetworkDns({ hostResolvConf: HOST, dnsServers: ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'] }).upstreams, ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
  // --dns 127.0.0.1 is the container's own loopback, which the server cannot reach.
  assert.deepEqual(userNetworkDns({ hostResolvConf: HOST, dnsServers: ['127.0.0.1', '192.0.2.1'] }).upstreams, ['192.0.2.1']);
});

test('queried names read as Docker reads them: the name, then name.network from the right', () => {
  assert.deepEqual(nameCandidates('Web.Front.'), [{ name: 'web.front' }, { name: 'web', network: 'front' }]);
  assert.deepEqual(nameCandidates('a.b.c'), [{ name: 'a.b.c' }, { name: 'a.b', network: 'c' }, { name: 'a', network: 'b.c' }]);
  assert.deepEqual(nameCandidates('db'), [{ name: 'db' }]);
});
