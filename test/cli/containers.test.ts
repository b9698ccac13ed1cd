// Container lifecycle, listing and inspection commands through bin/tug.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rand, setupCli, type CliEnv } from './cli-helpers.js';

let t: CliEnv;
before(async () => {
  t = await setupCli();
});
after(async () => {
  await t?.cleanup();
});

/** A running container that lives until removed (trap makes it stop promptly on TERM). */
async function sleeper(extra: string[] = []): Promise<string> {
  const name = `c-${rand()}`;
  const r = await t.tug(['run', '-d', '--name', name, '-l', t.label, ...extra, t.image, 'sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.2; done']);
  assert.equal(r.code, 0, r.stderr);
  return name;
}

test('stop, start, restart, pause, unpause, kill and wait, with docker\'s outputs', async () => {
  const name = await sleeper();
  const status = async (): Promise<string> => (await t.tug(['inspect', '-f', '{{.State.Status}}', name])).stdout.trim();
  assert.equal(await status(), 'running');
  assert.equal((await t.tug(['pause', name])).stdout, `${name}\n`);
  assert.equal(await status(), 'paused');
  assert.equal((await t.tug(['unpause', name])).stdout, `${name}\n`);
  assert.equal((await t.tug(['stop', '-t', '5', name])).stdout, `${name}\n`);
  assert.equal(await status(), 'exited');
  assert.equal((await t.tug(['inspect', '-f', '{{.State.ExitCode}}', name])).stdout, '0\n');
  assert.equal((await t.tug(['start', name])).stdout, `${name}\n`);
  assert.equal(await status(), 'running');
  assert.equal((await t.tug(['restart', '-t', '5', name])).stdout, `${name}\n`);
  assert.equal(await status(), 'running');
  assert.equal((await t.tug(['kill', '-s', 'KILL', name])).stdout, `${name}\n`);
  assert.equal((await t.tug(['wait', name])).stdout, '137\n');
  const rm = await t.tug(['rm', name]);
  assert.equal(rm.stdout, `${name}\n`);
});

test('errors for unknown containers print like docker and exit 1', async () => {
  const missing = `missing-${rand()}`;
  for (const cmd of ['stop', 'rm', 'kill', 'pause', 'start']) {
    const r = await t.tug([cmd, missing]);
    assert.equal(r.code, 1, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`Error response from daemon: .*${missing}`), cmd);
  }
  const i = await t.tug(['inspect', missing]);
  assert.equal(i.code, 1);
  assert.equal(i.stdout, '[]\n');
  assert.equal(i.stderr, `Error: No such object: ${missing}\n`);
});

test('rm refuses a running container without -f, removes it with -f', async () => {
  const name = await sleeper();
  const r = await t.tug(['rm', name]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^Error response from daemon: .*(running|stop)/i);
  const forced = await t.tug(['rm', '-f', name]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal((await t.tug(['ps', '-aq', '--filter', `name=^/?${name}$`])).stdout, '');
});

test('ps: default table, -q, -a, -n, -l, --no-trunc, --filter and --format', async () => {
  const running = await sleeper();
  const exited = `x-${rand()}`;
  assert.equal((await t.tug(['run', '--name', exited, '-l', t.label, t.image, 'sh', '-c', 'exit 2'])).code, 2);
  const id = (await t.tug(['inspect', '-f', '{{.Id}}', running])).stdout.trim();

  const table = await t.tug(['ps', '--filter', `label=${t.label}`]);
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
  assert.equal(lines.length, 2);
  assert.ok(lines[1]!.startsWith(`${id.slice(0, 12)}   `), lines[1]);
  // The command is cut to 20 characters with an ellipsis, then Go-quoted.
  assert.ok(lines[1]!.includes(`   "sh -c 'trap \\"exit 0…"   `), lines[1]);
  assert.match(lines[1]!, new RegExp(`   .* ago\\s+Up .*\\s+${running}$`));

  const all = await t.tug(['ps', '-a', '--filter', `label=${t.label}`, '--format', '{{.Names}} {{.State}} {{.Status}}']);
  assert.match(all.stdout, new RegExp(`^${exited} exited Exited \\(2\\) .* ago$`, 'm'));
  assert.match(all.stdout, new RegExp(`^${running} running Up `, 'm'));

  const q = await t.tug(['ps', '-q', '--filter', `label=${t.label}`]);
  assert.equal(q.stdout, `${id.slice(0, 12)}\n`);
  const full = await t.tug(['ps', '-q', '--no-trunc', '--filter', `label=${t.label}`]);
  assert.equal(full.stdout, `${id}\n`);
  const latest = await t.tug(['ps', '-l', '--format', '{{.Names}}', '--filter', `label=${t.label}`]);
  assert.equal(latest.stdout, `${exited}\n`);
  const n2 = await t.tug(['ps', '-n', '2', '-q', '--filter', `label=${t.label}`]);
  assert.equal(n2.stdout.trim().split('\n').length, 2);
  const st = await t.tug(['ps', '-a', '--filter', 'status=exited', '--filter', `label=${t.label}`, '--format', '{{.Names}}']);
  assert.equal(st.stdout, `${exited}\n`);

  const json = await t.tug(['ps', '--filter', `name=^/?${running}$`, '--format', '{{json .}}']);
  const obj = JSON.parse(json.stdout) as Record<string, string>;
  assert.equal(obj.Names, running);
  assert.equal(obj.ID, id.slice(0, 12));
  assert.equal(obj.State, 'running');
  assert.deepEqual(Object.keys(obj), [...Object.keys(obj)].sort());

  const tbl = await t.tug(['ps', '--filter', `name=^/?${running}$`, '--format', 'table {{.Names}}\\t{{.Image}}']);
  assert.match(tbl.stdout, new RegExp(`^NAMES\\s+IMAGE\\n${running}\\s+${t.image.replace(':latest', '')}`));

  const mgmt = await t.tug(['container', 'ls', '-q', '--filter', `label=${t.label}`]);
  assert.equal(mgmt.stdout, q.stdout);
});

test('inspect -f, --type, images and volumes, and JSON output', async () => {
  const name = await sleeper(['-e', 'FOO=bar']);
  const f = await t.tug(['inspect', '-f', '{{.State.Status}} {{.Name}} {{range .Config.Env}}{{if eq . "FOO=bar"}}found{{end}}{{end}}', name]);
  assert.equal(f.stdout, `running /${name} found\n`);
  const arr = JSON.parse((await t.tug(['inspect', name])).stdout) as Array<{ Name: string; State: { Running: boolean } }>;
  assert.equal(arr.length, 1);
  assert.equal(arr[0]!.Name, `/${name}`);
  assert.equal(arr[0]!.State.Running, true);
  const img = await t.tug(['inspect', '--type', 'image', '-f', '{{json .Config.Cmd}}', t.image]);
  assert.equal(img.stdout, '["sh"]\n');
  const img2 = await t.tug(['image', 'inspect', '-f', '{{.Id}}', t.image]);
  assert.match(img2.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const wrong = await t.tug(['inspect', '--type', 'image', name]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /No such image/);
  const c2 = await t.tug(['container', 'inspect', '-f', '{{.Config.Image}}', name]);
  assert.equal(c2.stdout, `${t.image}\n`);
});

test('rename and update', async () => {
  const name = await sleeper();
  const renamed = `${name}-new`;
  assert.equal((await t.tug(['rename', name, renamed])).code, 0);
  assert.equal((await t.tug(['inspect', '-f', '{{.Name}}', renamed])).stdout, `/${renamed}\n`);
  const u = await t.tug(['update', '--memory', '96m', '--memory-swap', '192m', '--cpus', '0.25', '--pids-limit', '33', '--restart', 'always', renamed]);
  assert.equal(u.stdout, `${renamed}\n`, u.stderr);
  const i = await t.tug(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}', renamed]);
  assert.equal(i.stdout, `${96 * 1024 * 1024} 250000000 33 always\n`);
  const none = await t.tug(['update', renamed]);
  assert.equal(none.code, 125);
});

test('top, stats --no-stream and port', async () => {
  const name = await sleeper(['-p', '127.0.0.1::80', '-p', '127.0.0.1::53/udp']);
  const top = await t.tug(['top', name]);
  assert.match(top.stdout.split('\n')[0]!, /PID/);
  assert.match(top.stdout, /sh -c trap/);
  const st = await t.tug(['stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}', name]);
  assert.match(st.stdout, new RegExp(`^${name} \\d+\\.\\d\\d% [\\d.]+[KMG]?i?B / [\\d.]+[KMGT]?i?B \\d+\\n$`));
  const table = await t.tug(['stats', '--no-stream', name]);
  assert.match(table.stdout, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS\n/);
  const port = await t.tug(['port', name]);
  assert.match(port.stdout, /^53\/udp -> 127\.0\.0\.1:\d+\n80\/tcp -> 127\.0\.0\.1:\d+\n$/);
  const one = await t.tug(['port', name, '80']);
  assert.match(one.stdout, /^127\.0\.0\.1:\d+\n$/);
  const ps = await t.tug(['ps', '--filter', `name=^/?${name}$`, '--format', '{{.Ports}}']);
  assert.match(ps.stdout, /^127\.0\.0\.1:\d+->53\/udp, 127\.0\.0\.1:\d+->80\/tcp\n$/);
  const none = await t.tug(['port', name, '8080']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /No public port '8080\/tcp' published/);
});

test('events --since/--until with filters and --format', async () => {
  const since = String(Math.floor(Date.now() / 1000) - 1);
  const name = `ev-${rand()}`;
  assert.equal((await t.tug(['run', '--name', name, '-l', t.label, t.image, 'true'])).code, 0);
  const until = String(Math.floor(Date.now() / 1000) + 1);
  const ev = await t.tug(['events', '--since', since, '--until', until, '--filter', `container=${name}`, '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}']);
  const lines = ev.stdout.trim().split('\n');
  assert.ok(lines.includes(`container create ${name}`), ev.stdout);
  assert.ok(lines.includes(`container start ${name}`), ev.stdout);
  assert.ok(lines.includes(`container die ${name}`), ev.stdout);
  const plain = await t.tug(['events', '--since', since, '--until', until, '--filter', `container=${name}`, '--filter', 'event=start']);
  assert.match(plain.stdout, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z container start [0-9a-f]{64} \\(.*name=${name}.*\\)\\n$`));
});
