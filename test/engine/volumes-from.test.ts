// --volumes-from against a real tug daemon through the docker CLI and
// docker-py: the other container's volumes and binds at the same paths,
// ':ro' forcing read-only, and inspect showing HostConfig.VolumesFrom as given.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand } from '../helpers/run-command.js';

let d: TestDaemon;
const sfx = randomBytes(3).toString('hex');

const docker = (...args: string[]): ReturnType<typeof runCommand> => runCommand('docker', args, { env: d.env });
async function ok(...args: string[]): Promise<string> {
  const r = await docker(...args);
  assert.equal(r.code, 0, `docker ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.stop();
});

test('--volumes-from shares the volume and bind of another container; :ro makes them read-only', async () => {
  const host = await mkdtemp(join(tmpdir(), 'tug-vf-'));
  const src = `vf-src-${sfx}`;
  try {
    await writeFile(join(host, 'b.txt'), 'from-bind\n');
    await ok('run', '--name', src, '-v', '/data', '-v', `${host}:/hostdir`, 'busybox', 'sh', '-c', 'echo from-volume > /data/v.txt');
    const out = await ok('run', '--rm', '--volumes-from', src, 'busybox', 'sh', '-c', 'cat /data/v.txt /hostdir/b.txt; echo more > /data/w.txt && echo wrote');
    assert.deepEqual(out.split('\n'), ['from-volume', 'from-bind', 'wrote']);
    const ro = await docker('run', '--rm', '--volumes-from', `${src}:ro`, 'busybox', 'sh', '-c', 'cat /data/w.txt; touch /data/x 2>&1 || echo refused');
    assert.equal(ro.code, 0, ro.stderr);
    assert.match(ro.stdout, /^more\n.*Read-only file system\nrefused\n$/s);
    const id = await ok('create', '--volumes-from', `${src}:ro`, 'busybox');
    assert.equal(await ok('inspect', '-f', '{{json .HostConfig.VolumesFrom}}', id), `["${src}:ro"]`);
    const mounts = JSON.parse(await ok('inspect', '-f', '{{json .Mounts}}', id)) as Array<{ Destination: string; RW: boolean; Source: string }>;
    assert.deepEqual(mounts.map((m) => [m.Destination, m.RW]).sort(), [['/data', false], ['/hostdir', false]]);
    assert.equal(mounts.find((m) => m.Destination === '/hostdir')?.Source, host);
    await ok('rm', id);
    const missing = await docker('create', '--name', `vf-bad-${sfx}`, '--volumes-from', `nope-${sfx}`, 'busybox');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, new RegExp(`No such container: nope-${sfx}`));
    assert.equal((await docker('inspect', `vf-bad-${sfx}`)).code, 1, 'a refused create leaves no container');
  } finally {
    await docker('rm', '-f', '-v', src);
    await rm(host, { recursive: true, force: true });
  }
});

test('docker-py volumes_from, as its integration suite uses it: two sources by name', async () => {
  const script = `
import docker, json, sys
c = docker.from_env(timeout=60).api
names = ['foobar_vol0_${sfx}', 'foobar_vol1_${sfx}']
made = []
try:
    for n in names:
        made.append(c.create_container('busybox', 'true', name=n, volumes=['/v-' + n], host_config=c.create_host_config(binds=[])))
        c.start(made[-1])
    res = c.create_container('busybox', 'cat', detach=True, stdin_open=True, host_config=c.create_host_config(volumes_from=names, network_mode='none'))
    made.append(res)
    c.start(res)
    info = c.inspect_container(res)
    print(json.dumps({'from': info['HostConfig']['VolumesFrom'], 'dests': sorted(m['Destination'] for m in info['Mounts'])}))
finally:
    for m in made:
        c.remove_container(m, force=True, v=True)
`;
  const r = await runCommand('python3', ['-c', script], { env: d.env });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { from: string[]; dests: string[] };
  assert.deepEqual(out.from, [`foobar_vol0_${sfx}`, `foobar_vol1_${sfx}`]);
  assert.deepEqual(out.dests, [`/v-foobar_vol0_${sfx}`, `/v-foobar_vol1_${sfx}`]);
});
