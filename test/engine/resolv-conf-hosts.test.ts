// /etc/resolv.conf and --add-host through the docker CLI on a real tug daemon:
// --dns, --dns-search and --dns-option on the default bridge give dockerd's
// file byte for byte (the expected texts were read from dockerd 20.10's
// containers), the host's network gets the host's own file, and
// `--add-host NAME:host-gateway` names the default bridge's gateway, as
// dockerd's HostGatewayIP. Malformed --add-host values are refused at create
// with dockerd's messages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand } from '../helpers/run-command.js';
import { hostResolvConfPath, readResolvConf } from '../../src/network/dns/resolv-conf-file.js';
import { sandboxResolvConf } from '../../src/network/dns/sandbox-resolv-conf.js';

let d: TestDaemon;

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.stop();
});

async function resolvConfOf(args: string[]): Promise<string> {
  const r = await runCommand('docker', ['run', '--rm', ...args, 'busybox', 'cat', '/etc/resolv.conf'], { env: d.env });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: { message?: string; Id?: string } }> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.socket, path: `/v1.41${path}`, method, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {} }, (r) => {
      let text = '';
      r.on('data', (b: Buffer) => (text += b.toString()));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, json: text ? (JSON.parse(text) as { message?: string }) : {} }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

test('default bridge resolv.conf with --dns, --dns-search, --dns-option matches dockerd', async () => {
  // Whatever the host's resolvers: every line comes from the flags.
  assert.equal(
    await resolvConfOf(['--dns', '1.2.3.4', '--dns', '5.6.7.8', '--dns-search', 'x.y', '--dns-search', 'z.w', '--dns-option', 'ndots:2', '--dns-option', 'timeout:1']),
    'search x.y z.w\nnameserver 1.2.3.4\nnameserver 5.6.7.8\noptions ndots:2 timeout:1\n',
  );
  assert.equal(await resolvConfOf(['--dns', '1.2.3.4', '--dns-search', '.']), 'nameserver 1.2.3.4\n');
  assert.equal(await resolvConfOf(['--dns', '1.2.3.4', '--dns-option', 'edns0']), 'nameserver 1.2.3.4\noptions edns0\n');
  // Flags that leave some kinds to the host's file (its nameservers, search or options fill in).
  const host = await readResolvConf(await hostResolvConfPath());
  assert.equal(await resolvConfOf([]), sandboxResolvConf(host, {}).text);
  assert.equal(await resolvConfOf(['--dns-search', 'a.example']), sandboxResolvConf(host, { search: ['a.example'] }).text);
  assert.match(await resolvConfOf(['--dns-search', 'a.example']), /^search a\.example\n(nameserver \S+\n)*/);
  // The host's network: the host's own file as it is.
  assert.equal(await resolvConfOf(['--network', 'host']), (await readResolvConf('/etc/resolv.conf')) ?? '');
});

test('--add-host NAME:host-gateway is the default bridge gateway; bad entries are refused at create', async () => {
  const gateway = d.subnet.replace(/\.0\/\d+$/, '.1');
  const r = await runCommand('docker', ['run', '--name', 'hg', '--add-host', 'gw:host-gateway', '--add-host', 'other:192.0.2.9', '--add-host', 'six:2001:db8::1', 'busybox', 'cat', '/etc/hosts'], { env: d.env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${gateway.replace(/\./g, '\\.')}\\tgw$`, 'm'));
  assert.match(r.stdout, /^192\.0\.2\.9\tother$/m);
  assert.match(r.stdout, /^2001:db8::1\tsix$/m);
  // Inspect keeps what was asked, as dockerd.
  const ins = await runCommand('docker', ['inspect', '-f', '{{json .HostConfig.ExtraHosts}}', 'hg'], { env: d.env });
  assert.equal(ins.stdout.trim(), '["gw:host-gateway","other:192.0.2.9","six:2001:db8::1"]');
  await runCommand('docker', ['rm', '-f', 'hg'], { env: d.env });

  const bad = await api('POST', '/containers/create?name=badhost', { Image: 'busybox', Cmd: ['true'], HostConfig: { ExtraHosts: ['x:notanip'] } });
  assert.deepEqual({ status: bad.status, message: bad.json.message }, { status: 400, message: 'invalid IP address in add-host: "notanip"' });
  const noColon = await api('POST', '/containers/create?name=badhost', { Image: 'busybox', Cmd: ['true'], HostConfig: { ExtraHosts: ['nocolon'] } });
  assert.deepEqual({ status: noColon.status, message: noColon.json.message }, { status: 400, message: 'bad format for add-host: "nocolon"' });
  const gone = await runCommand('docker', ['ps', '-aq', '--filter', 'name=badhost'], { env: d.env });
  assert.equal(gone.stdout.trim(), '', 'nothing half-made');
});
