// --mac-address against a real tug daemon: the container's eth0 on the default
// bridge carries the asked-for address, and inspect shows it in Config and
// NetworkSettings, whether the client sends it as Config.MacAddress (docker-py,
// API < 1.44) or per endpoint (the docker CLI on API 1.44+).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand } from '../helpers/run-command.js';

let d: TestDaemon;

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.stop();
});

test('docker run --mac-address: eth0 has the address and inspect shows it', async () => {
  const mac = '02:42:ac:11:00:9a';
  const r = await runCommand('docker', ['run', '--rm', '--mac-address', mac, 'busybox', 'cat', '/sys/class/net/eth0/address'], { env: d.env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), mac);
  const bad = await runCommand('docker', ['create', '--mac-address', mac, '--network', 'none', 'busybox'], { env: d.env });
  assert.notEqual(bad.code, 0, 'no interface to give the address to');
  assert.match(bad.stderr, /conflicting options: mac-address and the network mode/);
});

test('docker-py create_container(mac_address=...), as its integration suite does', async () => {
  const script = `
import docker, json
c = docker.from_env(timeout=60).api
ctr = c.create_container('busybox', ['sleep', '60'], mac_address='02:42:ac:11:00:0a')
try:
    c.start(ctr)
    res = c.inspect_container(ctr['Id'])
    out = c.exec_start(c.exec_create(ctr['Id'], ['cat', '/sys/class/net/eth0/address']))
    print(json.dumps({'settings': res['NetworkSettings']['MacAddress'], 'config': res['Config'].get('MacAddress'), 'eth0': out.decode().strip()}))
finally:
    c.remove_container(ctr, force=True)
`;
  const r = await runCommand('python3', ['-c', script], { env: d.env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { settings: '02:42:ac:11:00:0a', config: '02:42:ac:11:00:0a', eth0: '02:42:ac:11:00:0a' });
});
