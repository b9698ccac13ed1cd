// tug run / create / start / logs against a real daemon (tug's, or the one
// named by TUG_TEST_EXTERNAL_HOST).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
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

test('missing image: docker\'s "Unable to find image" line, a pull, and exit 125 when the pull fails', async () => {
  // Port 1 on loopback: nothing listens, so the pull fails without leaving the host.
  const r = await t.tug(['run', '--rm', `127.0.0.1:1/no-such-image-${rand()}`, 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^Unable to find image '127\.0\.0\.1:1\/no-such-image-[0-9a-f]+:latest' locally\n/);
  assert.match(r.stderr, /^tug: .*(connection refused|ECONNREFUSED)/im);
  // --pull never: no pull and no "Unable to find" line, the daemon's answer as is.
  const never = await t.tug(['create', '--pull', 'never', `no-such-image-${rand()}`]);
  assert.equal(never.code, 125);
  assert.match(never.stderr, /^tug: Error response from daemon: No such image: no-such-image-[0-9a-f]+(:latest)?\n/);
  const bad = await t.tug(['run', '--pull', 'sometimes', t.image]);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /invalid pull option: 'sometimes': must be one of "always", "missing" or "never"/);
});

test('run --help and create --help list the flags they take; --help after the image goes to the container', async () => {
  for (const cmd of ['run', 'create']) {
    const r = await t.tug([cmd, '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, new RegExp(`^\nUsage:  tug ${cmd} \\[OPTIONS\\] IMAGE \\[COMMAND\\] \\[ARG\\.\\.\\.\\]\n`));
    assert.match(r.stdout, /\n {2}-e, --env list +Set environment variables\n/);
    assert.match(r.stdout, /\n {6}--pull string +Pull image before creating \("always", "missing", "never"\) \(default "missing"\)\n/);
    assert.match(r.stdout, /\n {2}-u, --user string +Username or UID/);
    assert.match(r.stdout, /\n {6}--health-interval duration +Time between running the check/);
    assert.equal(/--detach {2,}/.test(r.stdout), cmd === 'run', `--detach is run's only: ${cmd}`);
    // Every listed flag is one the parser takes: each parses (with a value when it needs one) before --help.
    const listed = [...r.stdout.matchAll(/^ {2}(?:-\w, | {4})--([\w-]+)(?: (\w[\w-]*))? {2,}/gm)].map((m) => ({ name: m[1]!, takesValue: m[2] !== undefined }));
    assert.ok(listed.length > 50, `only ${listed.length} flags listed`);
    // (/dev/null as every value: Node 20 itself reads any --env-file in argv, even after the script.)
    const argv = listed.filter((f) => f.name !== 'help').map((f) => (f.takesValue ? `--${f.name}=/dev/null` : `--${f.name}`));
    const all = await t.tug([cmd, ...argv, '--help']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, r.stdout);
  }
  // --help among the flags, as docker parses it.
  assert.match((await t.tug(['run', '--rm', '-e', 'A=1', '--help'])).stdout, /Usage: {2}tug run/);
  assert.match((await t.tug(['container', 'create', '--help'])).stdout, /Aliases:\n {2}tug container create, tug create\n/);
  // After the image it is the container's own argument.
  assert.equal((await t.tug(['run', '--rm', '-l', t.label, t.image, 'echo', '--help'])).stdout, '--help\n');
});

test('--cidfile writes the id (and refuses an existing file); --ulimit reaches the process', async () => {
  const cid = join(t.tmp, `cid-${rand()}`);
  const r = await t.tug(['run', '-d', '--cidfile', cid, '-l', t.label, '--ulimit', 'nofile=512:1024', t.image, 'sh', '-c', 'ulimit -n; ulimit -Hn']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  assert.equal(await readFile(cid, 'utf8'), id);
  assert.equal((await t.tug(['wait', id])).stdout, '0\n');
  assert.equal((await t.tug(['logs', id])).stdout, '512\n1024\n');
  const again = await t.tug(['create', '--cidfile', cid, '-l', t.label, t.image]);
  assert.equal(again.code, 125);
  assert.match(again.stderr, /container ID file found, make sure the other container isn't running or delete /);
  assert.equal(await readFile(cid, 'utf8'), id, 'the existing file is left alone');
  // A create that fails leaves no id file behind.
  const failed = join(t.tmp, `cid-${rand()}`);
  const f = await t.tug(['create', '--pull', 'never', '--cidfile', failed, `no-such-image-${rand()}`]);
  assert.equal(f.code, 125);
  await assert.rejects(readFile(failed), /ENOENT/);
  const bad = await t.tug(['run', '--ulimit', 'nofile=9:1', t.image]);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /invalid argument "nofile=9:1" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 9 > 1/);
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
