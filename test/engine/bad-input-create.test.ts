// Bad input to the engine, through the docker CLI and the raw API: each gets a
// clear one-line error with Docker's status code, and leaves nothing half-made
// (no container record, mount, netns, cgroup, volume or NAT rule).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { readFile, readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';

let d: TestDaemon;

interface Result { code: number; stdout: string; stderr: string }
function run(cmd: string, args: string[]): Promise<Result> {
  return new Promise((res) => {
    execFile(cmd, args, { env: d.env, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as any).code === 'number' ? (err as any).code : -1) : 0;
      res({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
const docker = (args: string[]): Promise<Result> => run('docker', args);

/** One raw Docker API call over the daemon's socket: status and error message. */
function api(method: string, path: string, body?: unknown): Promise<{ status: number; message: string; json: any }> {
  return new Promise((res, rej) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request({ socketPath: d.socket, path: `/v1.45${path}`, method, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {} }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: any = null;
        try {
          json = JSON.parse(text);
        } catch {
          /* not JSON (204s, streams) */
        }
        res({ status: r.statusCode ?? 0, message: json?.message ?? '', json });
      });
    });
    req.on('error', rej);
    req.end(data);
  });
}

/** Everything a container can leave on the host, named, so a failure says what leaked. */
async function leftovers(): Promise<string[]> {
  const out: string[] = [];
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  for (const line of mountinfo.split('\n')) if (line.includes(d.root)) out.push(`mount ${line.split(' ')[4]}`);
  for (const ns of await readdir(join(d.root, 'network', 'netns')).catch(() => [] as string[])) out.push(`netns ${ns}`);
  const parent = `tug-${createHash('sha256').update(d.root).digest('hex').slice(0, 10)}`;
  for (const ctrl of ['memory', 'cpu', 'pids']) {
    const ents = await readdir(`/sys/fs/cgroup/${ctrl}/${parent}`, { withFileTypes: true }).catch(() => []);
    for (const e of ents) if (e.isDirectory()) out.push(`cgroup ${ctrl}/${parent}/${e.name}`);
  }
  return out;
}
async function containerNames(): Promise<string[]> {
  return (await docker(['ps', '-a', '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean).sort();
}
async function volumeNames(): Promise<string[]> {
  return (await docker(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean).sort();
}
/** Asserts a docker CLI call failed with exactly this daemon message on one line. */
function assertRefused(r: Result, message: string | RegExp): void {
  assert.notEqual(r.code, 0, 'the command must fail');
  const line = r.stderr.split('\n').find((l) => l.startsWith('docker: Error response from daemon: ') || l.startsWith('Error response from daemon: '));
  assert.ok(line, `no daemon error line in: ${r.stderr}`);
  const msg = line.replace(/^(docker: )?Error response from daemon: /, '');
  if (typeof message === 'string') assert.equal(msg, message);
  else assert.match(msg, message);
}
const uniq = (p: string): string => `${p}-${randomBytes(4).toString('hex')}`;

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d.stop();
});

test('create-time refusals: status, message, and no container or volume made', async () => {
  const vol = uniq('should-not-exist');
  const cases: Array<{ args: string[]; body: Record<string, unknown>; query?: string; status: number; message: string | RegExp }> = [
    { args: ['--pull', 'never', `nosuch-image-${randomBytes(3).toString('hex')}:v1`], body: { Image: 'nosuch-image-zz:v1' }, status: 404, message: /^No such image: nosuch-image-[0-9a-z]+:v1$/ },
    { args: ['--name', 'bad/name!', 'busybox'], body: { Image: 'busybox' }, query: '?name=bad%2Fname!', status: 400, message: 'Invalid container name (bad/name!), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed' },
    { args: ['--memory', '1k', '-v', `${vol}:/v`, 'busybox'], body: { Image: 'busybox', HostConfig: { Memory: 1024, Binds: [`${vol}:/v`] } }, status: 400, message: 'Minimum memory limit allowed is 6MB' },
    { args: ['--cpus', '999', 'busybox'], body: { Image: 'busybox', HostConfig: { NanoCpus: 999e9 } }, status: 400, message: /^Range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available$/ },
    { args: ['--restart', 'sometimes', 'busybox'], body: { Image: 'busybox', HostConfig: { RestartPolicy: { Name: 'sometimes' } } }, status: 400, message: "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'" },
    { args: ['--mount', 'type=bind,source=/does/not/exist,target=/x', '-v', `${vol}:/v`, 'busybox'], body: { Image: 'busybox', HostConfig: { Mounts: [{ Type: 'bind', Source: '/does/not/exist', Target: '/x' }] } }, status: 400, message: 'invalid mount config for type "bind": bind source path does not exist: /does/not/exist' },
    { args: ['-w', 'relative/dir', 'busybox'], body: { Image: 'busybox', WorkingDir: 'relative/dir' }, status: 400, message: "the working directory 'relative/dir' is invalid, it needs to be an absolute path" },
  ];
  for (const c of cases) {
    const r = await docker(['create', ...c.args, 'true']);
    assertRefused(r, c.message);
    assert.equal(r.stderr.split('\n').filter((l) => /Error response from daemon/.test(l)).length, 1, `one error line: ${r.stderr}`);
    const a = await api('POST', `/containers/create${c.query ?? ''}`, c.body);
    assert.equal(a.status, c.status, `${JSON.stringify(c.body)} → ${a.status} ${a.message}`);
    assert.ok(a.message.length > 0 && !a.message.includes('\n'), `one-line message: ${a.message}`);
  }
  // Port specs the CLI would catch itself, sent straight to the API.
  for (const PortBindings of [{ '80/tcp': [{ HostPort: '99999' }] }, { '80/sctpx': [{ HostPort: '8080' }] }, { 'http/tcp': [{ HostPort: '8080' }] }]) {
    const a = await api('POST', '/containers/create', { Image: 'busybox', HostConfig: { PortBindings } });
    assert.equal(a.status, 400, `${JSON.stringify(PortBindings)} → ${a.status} ${a.message}`);
    assert.match(a.message, /port|proto/i);
  }
  assert.equal((await api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Memory: -5 } })).status, 400);
  assert.deepEqual(await containerNames(), [], 'no container record was made');
  assert.deepEqual(await volumeNames(), [], 'no volume was made for a refused container');
  assert.deepEqual(await leftovers(), []);
});

test('API versions outside the served range: 400 naming the range, as dockerd', async () => {
  const get = (path: string): Promise<{ status: number; message: string }> =>
    new Promise((res, rej) => {
      const req = request({ socketPath: d.socket, path, method: 'GET' }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => res({ status: r.statusCode ?? 0, message: JSON.parse(Buffer.concat(chunks).toString() || '{}').message ?? '' }));
      });
      req.on('error', rej);
      req.end();
    });
  const tooNew = await get('/v9.99/version');
  assert.equal(tooNew.status, 400);
  assert.match(tooNew.message, /^client version 9\.99 is too new\. Maximum supported API version is 1\.\d+$/);
  const tooOld = await get('/v1.12/containers/json');
  assert.equal(tooOld.status, 400);
  assert.match(tooOld.message, /^client version 1\.12 is too old\. Minimum supported API version is 1\.\d+, please upgrade your client to a newer version$/);
  assert.equal((await get('/v1.24/containers/json')).status, 200);
  assert.equal((await get('/containers/json')).status, 200, 'no prefix: the current version');
});

test('unknown container: 404 for inspect, start, stop, kill, rm, exec', async () => {
  const ghost = uniq('ghost');
  for (const [method, path, body] of [
    ['GET', `/containers/${ghost}/json`],
    ['POST', `/containers/${ghost}/start`],
    ['POST', `/containers/${ghost}/stop`],
    ['POST', `/containers/${ghost}/kill`],
    ['DELETE', `/containers/${ghost}`],
    ['POST', `/containers/${ghost}/exec`, { Cmd: ['true'] }],
  ] as Array<[string, string, unknown?]>) {
    const a = await api(method, path, body);
    assert.equal(a.status, 404, `${method} ${path}`);
    assert.equal(a.message, `No such container: ${ghost}`);
  }
  assertRefused(await docker(['start', ghost]), `No such container: ${ghost}`);
});

test('name conflict 409; bad signal 400; exec in a stopped container 409; rm of a running one without -f 409', async () => {
  const name = uniq('busy');
  assert.equal((await docker(['run', '-d', '--name', name, 'busybox', 'sleep', '60'])).code, 0);
  const id = (await docker(['inspect', '-f', '{{.Id}}', name])).stdout.trim();
  const dup = await docker(['create', '--name', name, 'busybox', 'true']);
  assertRefused(dup, `Conflict. The container name "/${name}" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`);
  assert.equal((await api('POST', `/containers/create?name=${name}`, { Image: 'busybox' })).status, 409);

  assertRefused(await docker(['kill', '-s', 'NOSIG', name]), 'Invalid signal: NOSIG');
  assert.equal((await api('POST', `/containers/${name}/kill?signal=NOSIG`)).status, 400);
  assert.equal((await docker(['inspect', '-f', '{{.State.Running}}', name])).stdout.trim(), 'true', 'a refused kill leaves it running');

  const rm = await docker(['rm', name]);
  assertRefused(rm, `cannot remove container "/${name}": container is running: stop the container before removing or force remove`);
  assert.equal((await api('DELETE', `/containers/${name}`)).status, 409);

  assert.equal((await docker(['stop', '-t', '1', name])).code, 0);
  assertRefused(await docker(['exec', name, 'true']), `container ${id} is not running`);
  assert.equal((await api('POST', `/containers/${name}/exec`, { Cmd: ['true'] })).status, 409);
  assert.equal((await docker(['rm', name])).code, 0);
  assert.deepEqual(await containerNames(), []);
  assert.deepEqual(await leftovers(), []);
});

test('a command that does not exist: exit 127, record kept as Docker does, nothing else left', async () => {
  const name = uniq('nocmd');
  const r = await docker(['run', '--name', name, 'busybox', 'nosuchcmd']);
  assert.equal(r.code, 127);
  assertRefused(r, /exec: "nosuchcmd": executable file not found in \$PATH/);
  const st = (await docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', name])).stdout.trim();
  assert.match(st, /^(created|exited) 127$/);
  assert.deepEqual(await leftovers(), [], 'no mount, netns or cgroup for a container that never ran');
  // The record stays usable: it can be removed.
  assert.equal((await docker(['rm', name])).code, 0);
  assert.deepEqual(await containerNames(), []);
});

test('a host port already taken: start refused, no NAT rule, mount, netns or cgroup left', async () => {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const name = uniq('portclash');
    const r = await docker(['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:80`, 'busybox', 'sleep', '30']);
    assertRefused(r, `Bind for 127.0.0.1:${port}/tcp failed: port is already allocated`);
    assert.deepEqual(await leftovers(), []);
    const nat = await run('iptables-save', ['-t', 'nat']);
    assert.ok(!nat.stdout.includes(`--dport ${port} `), 'no DNAT rule for the refused port');
    assert.equal((await docker(['rm', '-f', name])).code, 0);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
