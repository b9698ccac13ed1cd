// docker-py (the Python Docker SDK) against a real tug daemon: each python
// script under test/engine/py drives one area and prints JSON we assert on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';

const pyDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/engine/py');
let d: TestDaemon;

async function runPy(script: string): Promise<any> {
  const suffix = randomBytes(4).toString('hex');
  const { stdout } = await promisify(execFile)('python3', [join(pyDir, script), suffix], { env: d.env, timeout: 240_000, maxBuffer: 16 << 20 });
  return JSON.parse(stdout);
}

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d.stop();
});

test('containers: run, wait, logs, exec, archives, stats, top, attach, host_config, prune', async () => {
  const r = await runPy('containers.py');
  assert.equal(r.run_fg, 'to-out\n', 'containers.run returns stdout only');
  assert.deepEqual(r.run_fail, { exit_status: 3, stderr: 'boom\n' });
  assert.deepEqual(r.wait, { StatusCode: 7, Error: null });
  assert.equal(r.logs_out, 'o1\n');
  assert.equal(r.logs_err, 'e1\n');
  assert.equal(r.attach_logs, 'o1\ne1\n', 'attach(logs=True) replays both streams');
  assert.equal(r.attach_logs_stdout, 'o1\n');
  assert.equal(r.det_status, 'exited');
  assert.equal(r.det_gone, true);
  assert.deepEqual(r.exec, { exit_code: 4, output: 'eo\nee\n' });
  assert.deepEqual(r.exec_demux, { exit_code: 0, stdout: 'eo\n', stderr: 'ee\n' });
  assert.equal(r.put_archive, true);
  assert.equal(r.cat_put, 'hello archive\n');
  assert.deepEqual(r.get_archive, { name: 'greeting.txt', stat_name: 'greeting.txt', size: 14, content: 'hello archive\n' });
  assert.deepEqual(r.diff, [{ Path: '/tmp', Kind: 0 }, { Path: '/tmp/greeting.txt', Kind: 1 }], 'diff shows the added file, not runc\'s mount stubs');
  assert.equal(r.stats.has_memory, true);
  assert.ok(r.stats.cpu_total > 0, 'cpu usage is reported');
  assert.ok(r.stats.pids >= 1, 'pid count is reported');
  assert.ok(r.top.titles.includes('PID') && r.top.titles.includes('CMD'));
  assert.ok(r.top.cmds.some((c: string) => c.includes('while true')), `top lists the shell: ${JSON.stringify(r.top.cmds)}`);
  assert.ok(r.attach.includes('ping-through-attach'), 'attach socket carries stdin to the container and its output back');
  assert.deepEqual(r.svc_after_stop, { status: 'exited', exit: 0 });
  assert.equal(r.host_config.memory, 64 * 1024 * 1024);
  assert.deepEqual(r.host_config.restart, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(r.host_config.binds, ['/tmp:/hosttmp:ro']);
  assert.equal(r.host_config.ports['80/tcp'][0].HostIp, '127.0.0.1');
  assert.match(r.host_port, /^[1-9][0-9]*$/, 'a host port was allocated');
  assert.deepEqual(r.mounts, ['/hosttmp']);
  assert.deepEqual(r.prune_deleted, [r.svc_id], 'prune removes the one stopped container left');
  assert.deepEqual(r.after_prune, []);
});

test('images: list, get, tag, save, load, import, remove; volumes: create, list, get, remove, prune', async () => {
  const r = await runPy('images_volumes.py');
  assert.match(r.busybox.id, /^sha256:[0-9a-f]{64}$/);
  assert.ok(r.busybox.tags.includes('busybox:latest'));
  assert.equal(r.tag, true);
  assert.ok(r.tagged_tags.some((t: string) => /^t2img-[0-9a-f]+:v1$/.test(t)));
  assert.equal(r.list_has_tag, true);
  assert.ok(r.list_filtered.some((t: string) => t.startsWith('t2img-')));
  assert.equal(r.save_has_manifest, true);
  assert.equal(r.after_remove, false);
  assert.equal(r.get_removed, 404);
  assert.equal(r.loaded.length, 1);
  assert.equal(r.loaded[0].id, r.busybox.id, 'load brings back the same image id');
  assert.ok(r.loaded[0].tags.some((t: string) => t.startsWith('t2img-')), 'load restores the saved tag');
  assert.match(r.import_status, /sha256:[0-9a-f]{64}/);
  assert.equal(r.imported_tags.length, 1);
  assert.equal(r.imported_layers, 1);
  assert.equal(r.vol_create.driver, 'local');
  assert.equal(r.vol_create.mountpoint_set, true);
  assert.deepEqual(r.vol_list, [r.vol_create.name]);
  assert.equal(Object.values(r.vol_get)[0], r.vol_create.name.replace('t2vol-', ''));
  assert.equal(r.vol_in_use_remove, 409, 'a volume used by a container cannot be removed');
  assert.equal(r.vol_content, 'data\n');
  assert.equal(r.vol_after_remove, 404);
  assert.equal(r.vol_prune.length, 1);
  assert.match(r.vol_prune[0], /^t2unused-/);
  assert.deepEqual(r.vol_left, []);
});

test('system: info, version, ping, events with until, df', async () => {
  const r = await runPy('system.py');
  assert.equal(r.info.Driver, 'overlay2');
  assert.ok(r.info.NCPU >= 1);
  assert.ok(r.info.MemTotal > 0);
  assert.ok(r.info.Images >= 1);
  assert.ok(r.info.SecurityOptions.some((o: string) => o.includes('seccomp')));
  assert.equal(r.version.Os, 'linux');
  assert.match(r.version.ApiVersion, /^1\.\d+$/);
  assert.equal(r.ping, true);
  assert.deepEqual(r.events, ['create', 'start', 'die', 'destroy'], 'events for the container, in order, and the stream ends at until');
  assert.equal(r.event_name.length, 1);
  assert.deepEqual(r.df.keys, ['BuildCache', 'Containers', 'Images', 'LayersSize', 'Volumes']);
  assert.ok(r.df.images >= 1);
  assert.equal(r.df.layers_size_type, 'int');
});

test('errors: NotFound/ImageNotFound 404, name conflict 409, bad values 400', async () => {
  const r = await runPy('errors.py');
  assert.deepEqual([r.unknown_image.type, r.unknown_image.status], ['ImageNotFound', 404]);
  assert.match(r.unknown_image.message, /^No such image: nosuchimage-/);
  assert.deepEqual([r.unknown_container.type, r.unknown_container.status], ['NotFound', 404]);
  assert.match(r.unknown_container.message, /^No such container: nosuch-/);
  assert.deepEqual([r.unknown_image_get.type, r.unknown_image_get.status], ['ImageNotFound', 404]);
  assert.deepEqual([r.unknown_volume.type, r.unknown_volume.status], ['NotFound', 404]);
  assert.equal(r.name_conflict.status, 409);
  assert.match(r.name_conflict.message, /is already in use by container/);
  assert.equal(r.bad_name.status, 400);
  assert.match(r.bad_name.message, /^Invalid container name \(bad\/name!\)/);
  assert.deepEqual([r.bad_memory.status, r.bad_memory.message], [400, 'Minimum memory limit allowed is 6MB']);
  assert.equal(r.bad_restart.status, 400);
  assert.match(r.bad_restart.message, /restart policy/);
});
