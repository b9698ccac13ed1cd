// Images (import, tag, images, history, save, load, rmi), volumes and system commands.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFile, stat } from 'node:fs/promises';
import { rand, setupCli, type CliEnv } from './cli-helpers.js';
import { runTool } from '../../src/util/exec-file.js';

let t: CliEnv;
before(async () => {
  t = await setupCli();
});
after(async () => {
  await t?.cleanup();
});

const repoOf = (image: string): string => image.replace(/:latest$/, '');

test('import with --change and -m, tag, images, history, rmi', async () => {
  const repo = `tugcli-imp-${rand()}`;
  const tar = join(t.tmp, 'busybox.tar');
  const imp = await t.tug(['import', '-c', 'ENV PATH=/bin', '-c', 'WORKDIR /tmp', '-m', 'imported by test', tar, `${repo}:v1`]);
  assert.equal(imp.code, 0, imp.stderr);
  assert.match(imp.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const id = imp.stdout.trim();
  assert.equal((await t.tug(['tag', `${repo}:v1`, `${repo}:v2`])).code, 0);

  const table = await t.tug(['images', repo]);
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  assert.equal(lines.length, 3);
  for (const tag of ['v1', 'v2']) {
    assert.ok(lines.some((l) => new RegExp(`^${repo}\\s+${tag}\\s+${id.slice(7, 19)}\\s+.* ago\\s+\\d+(\\.\\d+)?[kMG]?B$`).test(l)), table.stdout);
  }
  const q = await t.tug(['images', '-q', repo]);
  assert.equal(q.stdout, `${id.slice(7, 19)}\n`);
  const f = await t.tug(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=${repo}:v2`]);
  assert.equal(f.stdout, `${repo}:v2\n`);
  const cfg = await t.tug(['image', 'inspect', '-f', '{{.Config.WorkingDir}} {{.Comment}}', `${repo}:v1`]);
  assert.equal(cfg.stdout, '/tmp imported by test\n');

  const hist = await t.tug(['history', `${repo}:v1`]);
  assert.match(hist.stdout, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT\n/);
  assert.match(hist.stdout, /imported by test\n$/);
  assert.equal((await t.tug(['history', '-q', `${repo}:v1`])).stdout, `${id.slice(7, 19)}\n`);

  const rmi = await t.tug(['rmi', `${repo}:v1`, `${repo}:v2`]);
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.match(rmi.stdout, new RegExp(`^Untagged: ${repo}:v1\nUntagged: ${repo}:v2\nDeleted: ${id}\n`));
  const gone = await t.tug(['rmi', `${repo}:v1`]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^Error response from daemon: .*No such image/i);
});

test('import from stdin', async () => {
  const repo = `tugcli-stdin-${rand()}`;
  const r = await t.tug(['import', '-', `${repo}:latest`], await readFile(join(t.tmp, 'busybox.tar')));
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await t.tug(['images', '-q', repo])).stdout, `${r.stdout.trim().slice(7, 19)}\n`);
  assert.equal((await t.tug(['rmi', repo])).code, 0);
});

test('save -o and load -i round-trip an image', async () => {
  const repo = `tugcli-save-${rand()}`;
  assert.equal((await t.tug(['tag', t.image, `${repo}:v1`])).code, 0);
  const file = join(t.tmp, `${repo}.tar`);
  const s = await t.tug(['save', '-o', file, `${repo}:v1`]);
  assert.equal(s.code, 0, s.stderr);
  assert.ok((await stat(file)).size > 100_000);
  const listing = await runTool('tar', ['-tf', file]);
  assert.match(listing.stdout, /manifest\.json/);
  assert.equal((await t.tug(['rmi', `${repo}:v1`])).code, 0);
  const l = await t.tug(['load', '-i', file]);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, new RegExp(`Loaded image: ${repo}:v1\n`));
  const run = await t.tug(['run', '--rm', '-l', t.label, `${repo}:v1`, 'echo', 'loaded-ok']);
  assert.equal(run.stdout, 'loaded-ok\n');
  assert.equal((await t.tug(['rmi', `${repo}:v1`])).code, 0);
});

test('volume create, ls, inspect, use, rm and prune', async () => {
  const vol = `tugcli-vol-${rand()}`;
  const label = `tugcli-vol=${rand()}`;
  assert.equal((await t.tug(['volume', 'create', '--label', label, vol])).stdout, `${vol}\n`);
  const ls = await t.tug(['volume', 'ls', '--filter', `label=${label}`]);
  assert.match(ls.stdout, new RegExp(`^DRIVER\\s+VOLUME NAME\\nlocal\\s+${vol}\\n$`));
  assert.equal((await t.tug(['volume', 'ls', '-q', '--filter', `label=${label}`])).stdout, `${vol}\n`);
  const insp = await t.tug(['volume', 'inspect', '-f', '{{.Name}} {{.Driver}}', vol]);
  assert.equal(insp.stdout, `${vol} local\n`);
  const json = JSON.parse((await t.tug(['volume', 'inspect', vol])).stdout) as Array<{ Name: string }>;
  assert.equal(json[0]!.Name, vol);

  const w = await t.tug(['run', '--rm', '-l', t.label, '-v', `${vol}:/data`, t.image, 'sh', '-c', 'echo persisted > /data/f']);
  assert.equal(w.code, 0, w.stderr);
  const r = await t.tug(['run', '--rm', '-l', t.label, '--mount', `type=volume,source=${vol},target=/v,readonly`, t.image, 'cat', '/v/f']);
  assert.equal(r.stdout, 'persisted\n');

  assert.equal((await t.tug(['volume', 'rm', vol])).stdout, `${vol}\n`);
  const missing = await t.tug(['volume', 'rm', vol]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^Error response from daemon: /);

  const vol2 = `tugcli-vol-${rand()}`;
  await t.tug(['volume', 'create', '--label', label, vol2]);
  const pr = await t.tug(['volume', 'prune', '-f', '-a', '--filter', `label=${label}`]);
  assert.equal(pr.code, 0, pr.stderr);
  assert.match(pr.stdout, new RegExp(`^Deleted Volumes:\\n${vol2}\\n\\nTotal reclaimed space: `));
  assert.equal((await t.tug(['volume', 'ls', '-q', '--filter', `label=${label}`])).stdout, '');
});

test('system df, prune (scoped by label), info and version', async () => {
  const df = await t.tug(['system', 'df']);
  assert.match(df.stdout, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+\d+\s+\d+\s+\S+\s+.*\nContainers\s+.*\nLocal Volumes\s+.*\nBuild Cache\s+.*\n$/);

  const label = `tugcli-prune=${rand()}`;
  const name = `pr-${rand()}`;
  assert.equal((await t.tug(['run', '--name', name, '-l', label, '-l', t.label, t.image, 'true'])).code, 0);
  const id = (await t.tug(['inspect', '-f', '{{.Id}}', name])).stdout.trim();
  const pr = await t.tug(['system', 'prune', '-f', '--filter', `label=${label}`]);
  assert.equal(pr.code, 0, pr.stderr);
  assert.match(pr.stdout, new RegExp(`Deleted Containers:\\n${id}\\n`));
  assert.match(pr.stdout, /Total reclaimed space: \S+\n$/);

  const cp = `cpr-${rand()}`;
  await t.tug(['create', '--name', cp, '-l', label, '-l', t.label, t.image, 'true']);
  const cpr = await t.tug(['container', 'prune', '-f', '--filter', `label=${label}`]);
  assert.match(cpr.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n\nTotal reclaimed space: /);

  const info = await t.tug(['info', '--format', '{{.Containers}} {{.OSType}}']);
  assert.match(info.stdout, /^\d+ linux\n$/);
  const plain = await t.tug(['info']);
  assert.match(plain.stdout, /\n Server Version: \S+/);
  const v = await t.tug(['version', '--format', '{{.Client.Version}} {{.Server.ApiVersion}}']);
  assert.match(v.stdout, /^\d+\.\d+\.\d+ 1\.\d+\n$/);
  const vv = await t.tug(['version']);
  assert.match(vv.stdout, /^Client:\n Version: +\S+\n API version: +1\.\d+\n[\s\S]*\nServer:\n Engine:\n  Version: +\S+/);
  assert.equal(repoOf(t.image).startsWith('tugcli-bb-'), true);
});

test('an unreachable daemon is reported clearly', async () => {
  const r = await t.tug(['-H', `unix://${join(t.tmp, 'no.sock')}`, 'ps']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^Cannot connect to the tug daemon at unix:\/\/.*no\.sock\. Is the tug daemon running\?/);
});
