// The engine's /etc files without a daemon: a user-defined network's
// resolv.conf points at the embedded DNS (127.0.0.11, with the host's search
// and options), and rewriting a running container's resolv.conf keeps the
// inode runc bind-mounted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerResolvConf, rewriteResolvConf, writeEtcFiles } from '../../src/engine/etc-files.js';
import { readResolvConf } from '../../src/network/dns/resolv-conf-file.js';
import { userNetworkResolvConf } from '../../src/network/embedded-dns/resolv-conf.js';

test('user-defined network resolv.conf, and an in-place rewrite when a running container joins one', async () => {
  const host = await readResolvConf('/etc/resolv.conf');
  const user = await containerResolvConf({ hostNetwork: false, embeddedDns: true, dns: { search: ['svc.example'] } });
  assert.equal(user, userNetworkResolvConf({ hostResolvConf: host, dnsSearch: ['svc.example'] }));
  assert.match(user, /^search svc\.example\nnameserver 127\.0\.0\.11\n/);

  const dir = await mkdtemp(join(tmpdir(), 'tug-etc-'));
  try {
    const files = await writeEtcFiles(dir, { hostname: 'h', domainname: '', ip: '', hostNetwork: false, dns: { servers: ['192.0.2.53'] } });
    assert.equal(await readFile(files.resolvConf, 'utf8'), 'nameserver 192.0.2.53\n');
    const before = await stat(files.resolvConf);
    await rewriteResolvConf(files.resolvConf, { hostNetwork: false, embeddedDns: true, dns: { servers: ['192.0.2.53'] } });
    assert.equal(await readFile(files.resolvConf, 'utf8'), 'nameserver 127.0.0.11\noptions ndots:0\n');
    assert.equal((await stat(files.resolvConf)).ino, before.ino, 'the bind-mounted inode is the one rewritten');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
