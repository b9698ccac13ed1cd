// tug run / create / start / logs against a real daemon (tug's, or the one
// named by TUG_TEST_EXTERNAL_HOST).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rand, setupCli, type CliEnv } from './cli-helpers.js';

let t: CliEnv;
before(async () => {
  t = await setupCli();
});
after(async () => {
  await t?.cleanup();
});

test('run exits with the container exit code and keeps stdout/stderr apart', async () => {
  const r = await t.tug(['run', '--rm', '-l', t.label, t.image, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
});

test('run passes env, env-file, workdir, user, hostname, entrypoint and labels', async () => {
  const envFile = join(t.tmp, `env-${rand()}`);
  await writeFile(envFile, '# comment\nFROMFILE=yes\n\n');
  const name = `run-${rand()}`;
  const r = await t.tug([
    'run', '--name', name, '-l', t.label, '-l', 'extra=1', '-e', 'A=1', '--env-file', envFile, '-w', '/tmp', '-u', 'nobody',
    '-h', 'myhost', '--entrypoint', 'sh', t.image, '-c', 'echo $A $FROMFILE $(pwd) $(id -un) $(hostname)',
  ]);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, '1 yes /tmp nobody myhost\n');
  const labels = await t.tug(['inspect', '-f', '{{index .Config.Labels "extra"}} {{.Config.Entrypoint}}', name]);
  assert.equal(labels.stdout, '1 [sh]\n');
  assert.equal((await t.tug(['rm', name])).stdout, `${name}\n`);
});

test('run -i forwards stdin; --rm removes the container afterwards', async () => {
  const name = `stdin-${rand()}`;
  const r = await t.tug(['run', '-i', '--rm', '--name', name, '-l', t.label, t.image, 'sh', '-c', 'cat; exit 7'], 'piped input\n');
  assert.equal(r.code, 7);
  assert.equal(r.stdout, 'piped input\n');
  const left = await t.tug(['inspect', '--type', 'container', name]);
  assert.equal(left.code, 1);
  assert.match(left.stderr, /No such container/);
});

test('run -d prints the id; logs, logs --tail and stderr separation', async () => {
  const name = `logs-${rand()}`;
  const r = await t.tug(['run', '-d', '--name', name, '-l', t.label, t.image, 'sh', '-c', 'echo o1; echo e1 >&2; echo o2']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
  assert.equal((await t.tug(['wait', name])).stdout, '0\n');
  const logs = await t.tug(['logs', name]);
  assert.equal(logs.stdout, 'o1\no2\n');
  assert.equal(logs.stderr, 'e1\n');
  const tail = await t.tug(['logs', '--tail', '1', '-t', name]);
  const all = tail.stdout + tail.stderr;
  assert.equal(all.trim().split('\n').length, 1);
  assert.match(all, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z (o2|e1)\n$/);
  const since = await t.tug(['logs', '--since', '1h', name]);
  assert.equal(since.stdout, 'o1\no2\n');
  const future = await t.tug(['logs', '--since', String(Math.floor(Date.now() / 1000) + 3600), name]);
  assert.equal(future.stdout, '');
});

test('create then start -a returns the exit code', async () => {
  const name = `create-${rand()}`;
  const c = await t.tug(['create', '--name', name, '-l', t.label, t.image, 'sh', '-c', 'echo created-run; exit 4']);
  assert.equal(c.code, 0);
  assert.match(c.stdout, /^[0-9a-f]{64}\n$/);
  assert.equal((await t.tug(['inspect', '-f', '{{.State.Status}}', name])).stdout, 'created\n');
  const s = await t.tug(['start', '-a', name]);
  assert.equal(s.stdout, 'created-run\n');
  assert.equal(s.code, 4);
  assert.equal((await t.tug(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', name])).stdout, 'exited 4\n');
});

test('missing image: docker\'s "Unable to find image" line and exit 125', async () => {
  const r = await t.tug(['run', '--rm', `no-such-image-${rand()}`, 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^Unable to find image 'no-such-image-[0-9a-f]+:latest' locally\n/);
  assert.match(r.stderr, /Error response from daemon: /);
});

test('command not found exits 127, not executable exits 126', async () => {
  const nf = await t.tug(['run', '--rm', '-l', t.label, t.image, 'no-such-command']);
  assert.equal(nf.code, 127);
  assert.match(nf.stderr, /Error response from daemon: .*(not found|no such file)/);
  const ne = await t.tug(['run', '--rm', '-l', t.label, t.image, '/etc/passwd']);
  assert.equal(ne.code, 126);
});

test('bad flags are usage errors with exit 125', async () => {
  const r = await t.tug(['run', '--no-such-flag', t.image]);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /unknown flag: --no-such-flag/);
  const m = await t.tug(['run', '--memory', 'lots', t.image]);
  assert.equal(m.code, 125);
  assert.match(m.stderr, /invalid size/);
});

test('resource and security flags reach the container config', async () => {
  const name = `res-${rand()}`;
  const r = await t.tug([
    'create', '--name', name, '-l', t.label, '--memory', '64m', '--memory-swap', '128m', '--cpus', '0.5', '--cpu-shares', '512',
    '--pids-limit', '40', '--restart', 'on-failure:2', '--cap-drop', 'NET_RAW', '--cap-add', 'SYS_TIME', '--read-only', '--init',
    '--tmpfs', '/run:size=1m', '-v', '/data', '--stop-signal', 'SIGUSR1', '--stop-timeout', '3', '-p', '127.0.0.1::80', '--network', 'bridge',
    '--security-opt', 'no-new-privileges', t.image, 'true',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const f =
    '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}} ' +
    '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}} {{.HostConfig.CapDrop}} {{.HostConfig.CapAdd}} ' +
    '{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.Init}} {{json .HostConfig.Tmpfs}} {{json .Config.Volumes}} {{.Config.StopSignal}} ' +
    '{{.Config.StopTimeout}} {{json .HostConfig.PortBindings}} {{.HostConfig.NetworkMode}} {{.HostConfig.SecurityOpt}}';
  const i = await t.tug(['inspect', '--type', 'container', '-f', f, name]);
  assert.equal(
    i.stdout,
    '67108864 134217728 500000000 512 40 on-failure:2 [NET_RAW] [SYS_TIME] true true {"/run":"size=1m"} {"/data":{}} SIGUSR1 3 ' +
      '{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":""}]} bridge [no-new-privileges]\n',
  );
});

test('run -a stdout attaches only that stream', async () => {
  const r = await t.tug(['run', '--rm', '-a', 'stdout', '-l', t.label, t.image, 'sh', '-c', 'echo shown; echo hidden >&2']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'shown\n');
  assert.equal(r.stderr, '');
});

test('logs -f follows until the container exits', async () => {
  const name = `follow-${rand()}`;
  const r = await t.tug(['run', '-d', '--name', name, '-l', t.label, t.image, 'sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.3; done']);
  assert.equal(r.code, 0, r.stderr);
  const f = await t.tug(['logs', '-f', name]);
  assert.equal(f.code, 0);
  assert.equal(f.stdout, 'line1\nline2\nline3\n');
});

test('management aliases and -H/TUG_HOST select the same daemon', async () => {
  const name = `alias-${rand()}`;
  assert.equal((await t.tug(['container', 'create', '--name', name, '-l', t.label, t.image, 'true'])).code, 0);
  const viaH = await t.tug(['-H', t.daemon.host, 'container', 'ls', '-a', '--filter', `name=^/?${name}$`, '--format', '{{.Names}}']);
  assert.equal(viaH.stdout, `${name}\n`);
  assert.equal((await t.tug(['container', 'rm', name])).stdout, `${name}\n`);
  const bad = await t.tug(['container', 'frobnicate']);
  assert.equal(bad.code, 125);
});

test('run -it without a terminal on stdin refuses like docker', async () => {
  const r = await t.tug(['run', '-it', '--rm', t.image, 'true'], '');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'the input device is not a TTY\n');
});
