// Debian's docker-compose 1.29.2 against a tug daemon, every service on the
// default bridge (network_mode: bridge, legacy links): up -d, ps, logs, exec,
// up again after a config change (the recreate path, which reads image
// inspect's ContainerConfig and the old container's Mounts; a built image's VOLUME is kept), stop/start, down -v.
// Also what 1.29.2 and its users read back from inspect, as dockerd 20.10
// reports it: HostConfig.Links after start, IpcMode "private", OomScoreAdj
// (applied to the process too), UsernsMode, LogConfig, MemorySwappiness.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand } from '../helpers/run-command.js';
import { dockerComposeIn, freePort, httpUntil, writeFiles, type ComposeRunner } from './compose-helpers.js';

let d: TestDaemon;
let dir: string;
let dc: ComposeRunner;
let port: number;
const project = 'dcbridge';

const composeFile = (x: string): string => `services:
  a:
    image: busybox
    network_mode: bridge
    command: sh -c 'echo hello from a; exec sleep 1000'
    environment:
      X: "${x}"
    oom_score_adj: 200
    stop_grace_period: 1s
    volumes:
      - data:/data
      - /anon
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
  b:
    image: busybox
    network_mode: bridge
    command: sh -c 'echo hello from b; echo served-by-b > /www/index.html; exec httpd -f -p 80 -h /www'
    working_dir: /
    tmpfs: /www
    stop_grace_period: 1s
    ports: ["127.0.0.1:PORT:80"]
    depends_on:
      a:
        condition: service_healthy
    links: [a]
  c:
    build: ./c
    network_mode: bridge
    stop_grace_period: 1s
    environment:
      X: "${x}"
volumes:
  data:
`;

async function docker(args: string[]): Promise<string> {
  const r = await runCommand('docker', args, { env: d.env });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

async function inspect(name: string): Promise<Record<string, any>> {
  return (JSON.parse(await docker(['inspect', name])) as Array<Record<string, any>>)[0]!;
}

async function ok(args: string[]): Promise<string> {
  const r = await dc(args);
  assert.equal(r.code, 0, `docker-compose ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /Traceback|KeyError/);
  return r.stdout + r.stderr;
}

before(async () => {
  d = await startTestDaemon();
  dir = await mkdtemp(join(tmpdir(), 'tug-dc-bridge-'));
  port = await freePort();
  dc = dockerComposeIn(d, dir, project);
});
after(async () => {
  await dc?.(['down', '-v', '-t', '0']).catch(() => undefined);
  await d?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function writeCompose(x: string): Promise<void> {
  await writeFiles(dir, {
    'compose.yaml': composeFile(x).replace('PORT', String(port)),
    // An image VOLUME no compose volume names: compose finds it in image inspect's ContainerConfig.
    'c/Dockerfile': 'FROM busybox\nVOLUME /keep\nCMD ["sleep", "1000"]\n',
  });
}

test('up -d starts a before b (service_healthy), publishes b, and ps/logs show both', async () => {
  await writeCompose('1');
  const up = await ok(['up', '-d']);
  assert.match(up, /Creating volume "dcbridge_data"/);
  assert.match(up, /Creating dcbridge_a_1 \.\.\. done/);
  assert.match(up, /Creating dcbridge_b_1 \.\.\. done/);
  assert.match(up, /Creating dcbridge_c_1 \.\.\. done/);
  const a = await inspect('dcbridge_a_1');
  assert.equal(a.State.Health.Status, 'healthy', 'b started only after a was healthy');
  const reply = await httpUntil(port, (r) => r.status === 200);
  assert.equal(reply.body, 'served-by-b\n');

  const ps = await ok(['ps']);
  assert.match(ps, /dcbridge_a_1 .* Up \(healthy\)/);
  assert.match(ps, new RegExp(`dcbridge_b_1 .* Up +127\\.0\\.0\\.1:${port}->80/tcp`));
  const logs = await ok(['logs', '--no-color']);
  assert.match(logs, /a_1 +\| hello from a/);
  assert.match(logs, /b_1 +\| hello from b/);
  assert.equal((await ok(['exec', '-T', 'a', 'sh', '-c', 'echo $X'])).trim(), '1');
});

test('inspect shows HostConfig as dockerd 20.10 does, and oom_score_adj reaches the process', async () => {
  const a = await inspect('dcbridge_a_1');
  const hc = a.HostConfig;
  assert.equal(hc.IpcMode, 'private');
  assert.equal(hc.OomScoreAdj, 200);
  assert.equal(hc.UsernsMode, '');
  assert.equal(hc.MemorySwappiness, null);
  assert.deepEqual(hc.LogConfig, { Type: 'json-file', Config: {} });
  for (const k of ['Cgroup', 'CgroupParent', 'ContainerIDFile', 'CpusetMems', 'BlkioWeight', 'KernelMemory', 'CpuCount', 'IOMaximumIOps', 'MaskedPaths', 'ReadonlyPaths']) {
    assert.ok(k in hc, `HostConfig.${k} missing`);
  }
  assert.equal((await ok(['exec', '-T', 'a', 'cat', '/proc/1/oom_score_adj'])).trim(), '200');
  const b = await inspect('dcbridge_b_1');
  // What compose reads to decide whether links changed (project.py: HostConfig.Links).
  assert.deepEqual([...b.HostConfig.Links].sort(), ['/dcbridge_a_1:/dcbridge_b_1/a', '/dcbridge_a_1:/dcbridge_b_1/a_1', '/dcbridge_a_1:/dcbridge_b_1/dcbridge_a_1']);
  const image = (JSON.parse(await docker(['image', 'inspect', a.Image])) as Array<Record<string, any>>)[0]!;
  assert.ok(image.ContainerConfig && 'Volumes' in image.ContainerConfig, 'image inspect has ContainerConfig with Volumes');
  // A built image records its last step's container config, VOLUMEs included (as the classic builder).
  const built = (JSON.parse(await docker(['image', 'inspect', `${project}_c`])) as Array<Record<string, any>>)[0]!;
  assert.deepEqual(built.ContainerConfig.Volumes, { '/keep': {} });
});

test('up after a config change recreates a and c and keeps their named, anonymous and image volumes', async () => {
  const before = await inspect('dcbridge_a_1');
  await ok(['exec', '-T', 'a', 'sh', '-c', 'echo named > /data/f; echo anon > /anon/f']);
  await ok(['exec', '-T', 'c', 'sh', '-c', 'echo image-volume > /keep/f']);
  const cBefore = await inspect('dcbridge_c_1');
  await writeCompose('2');
  const up = await ok(['up', '-d']);
  assert.match(up, /Recreating dcbridge_a_1 \.\.\. done/);
  const after = await inspect('dcbridge_a_1');
  assert.notEqual(after.Id, before.Id);
  assert.equal((await ok(['exec', '-T', 'a', 'sh', '-c', 'echo $X; cat /data/f /anon/f'])).trim(), '2\nnamed\nanon');
  const anon = (m: Array<Record<string, any>>): string => m.find((x) => x.Destination === '/anon')!.Name as string;
  assert.equal(anon(after.Mounts), anon(before.Mounts), 'the anonymous volume was carried over');
  assert.match(up, /Recreating dcbridge_c_1 \.\.\. done/);
  const cAfter = await inspect('dcbridge_c_1');
  assert.notEqual(cAfter.Id, cBefore.Id);
  assert.equal((await ok(['exec', '-T', 'c', 'cat', '/keep/f'])).trim(), 'image-volume', "the image's VOLUME was carried over");
  // Nothing changed for b: compose leaves it alone.
  assert.match(up, /dcbridge_b_1 is up-to-date/);
});

test('stop, then start, then down -v removes containers and volumes', async () => {
  await ok(['stop', '-t', '1']);
  assert.match(await ok(['ps']), /dcbridge_a_1 .* Exit/);
  // b links to a container compose has since removed (the recreated a's old
  // self), exactly as on dockerd; start a alone.
  await ok(['start', 'a']);
  assert.match(await ok(['ps', 'a']), /dcbridge_a_1 .* Up/);
  const down = await ok(['down', '-v', '-t', '1']);
  assert.match(down, /Removing dcbridge_a_1 \.\.\. done/);
  assert.match(down, /Removing volume dcbridge_data/);
  assert.equal(await docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]), '');
  assert.doesNotMatch(await docker(['volume', 'ls', '-q']), /dcbridge_data/);
  // The anonymous volume went with its container (down -v removes those too).
  assert.equal(await docker(['volume', 'ls', '-q']), '');
});
