// Docker's default seccomp policy, proven syscall by syscall through the real
// docker CLI against a tug daemon. test/engine/c/seccomp-probe.c (compiled
// static here, bind-mounted into busybox) makes each call with arguments the
// kernel would turn down with something other than EPERM, so EPERM means the
// filter refused it; seccomp=unconfined shows what the kernel alone says.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { runCommand, type CommandResult } from '../helpers/run-command.js';

const probeSource = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/engine/c/seccomp-probe.c');

let d: TestDaemon;
let dir: string;
let probeBin: string;

const docker = (args: string[]): Promise<CommandResult> => runCommand('docker', args, { env: d.env, guardMs: 120_000 });

/** Runs the probe in a fresh busybox container with `flags`; returns probe name -> OK or errno name. */
async function probe(flags: string[], names: string[]): Promise<Record<string, string>> {
  const r = await docker(['run', '--rm', ...flags, '-v', `${probeBin}:/probe:ro`, 'busybox', '/probe', ...names]);
  assert.equal(r.code, 0, `probe failed (${r.code}): ${r.stderr}`);
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=') as [string, string]));
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tug-seccomp-'));
  probeBin = join(dir, 'seccomp-probe');
  const cc = await runCommand('gcc', ['-static', '-O2', '-o', probeBin, probeSource]);
  assert.equal(cc.code, 0, `compiling the probe: ${cc.stderr}`);
  d = await startTestDaemon();
});
after(async () => {
  await d?.stop();
  await rm(dir, { recursive: true, force: true });
});

const NAMESPACE_PROBES = ['unshare_user', 'unshare_net', 'clone_plain', 'clone_newuser', 'clone_newns', 'clone3', 'mount', 'umount2', 'setns'];

test('unshare -Urn and mount inside a new user namespace fail with EPERM, as on Docker; --cap-add SYS_ADMIN lets unshare through', async () => {
  const unshare = await docker(['run', '--rm', 'busybox', 'unshare', '-Urn', 'true']);
  assert.notEqual(unshare.code, 0);
  assert.match(unshare.stderr, /unshare\(0x50000000\): Operation not permitted/);
  const mountInUserns = await docker(['run', '--rm', 'busybox', 'unshare', '-Urm', 'mount', '-t', 'tmpfs', 'none', '/tmp']);
  assert.notEqual(mountInUserns.code, 0);
  assert.match(mountInUserns.stderr, /Operation not permitted/);
  // The kernel alone would allow both: the filter is what refuses them.
  const unconfined = await docker(['run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'unshare', '-Urm', 'sh', '-c', 'mount -t tmpfs none /tmp && echo mounted']);
  assert.equal(unconfined.code, 0, unconfined.stderr);
  assert.match(unconfined.stdout, /^mounted$/m);
  const admin = await docker(['run', '--rm', '--cap-add', 'SYS_ADMIN', 'busybox', 'unshare', '-Urn', 'sh', '-c', 'id -u; ip -o link | wc -l']);
  assert.equal(admin.code, 0, admin.stderr);
  assert.deepEqual(admin.stdout.trim().split('\n'), ['0', '1'], 'root in the new user namespace, only lo in the new net namespace');
});

test('namespace syscalls: clone only without namespace flags, clone3 ENOSYS, unshare/mount/umount/setns EPERM; all pass with CAP_SYS_ADMIN', async () => {
  assert.deepEqual(await probe([], NAMESPACE_PROBES), {
    unshare_user: 'EPERM', unshare_net: 'EPERM', clone_plain: 'OK', clone_newuser: 'EPERM', clone_newns: 'EPERM',
    clone3: 'ENOSYS', mount: 'EPERM', umount2: 'EPERM', setns: 'EPERM',
  });
  // With CAP_SYS_ADMIN the kernel answers: bad arguments come back as EFAULT, EINVAL, EBADF.
  assert.deepEqual(await probe(['--cap-add', 'SYS_ADMIN'], NAMESPACE_PROBES), {
    unshare_user: 'OK', unshare_net: 'OK', clone_plain: 'OK', clone_newuser: 'OK', clone_newns: 'OK',
    clone3: 'OK', mount: 'EFAULT', umount2: 'EINVAL', setns: 'EBADF',
  });
  // Unconfined, an unprivileged container may make a user namespace: the filter made the difference.
  const bare = await probe(['--security-opt', 'seccomp=unconfined'], ['unshare_user', 'clone_newuser', 'clone3', 'mount']);
  assert.deepEqual(bare, { unshare_user: 'OK', clone_newuser: 'OK', clone3: 'OK', mount: 'EFAULT' });
});

test('the kernel keyring (keyctl, add_key, request_key) and pivot_root are refused even with CAP_SYS_ADMIN', async () => {
  const names = ['keyctl', 'add_key', 'request_key', 'pivot_root'];
  const denied = { keyctl: 'EPERM', add_key: 'EPERM', request_key: 'EPERM', pivot_root: 'EPERM' };
  assert.deepEqual(await probe([], names), denied);
  assert.deepEqual(await probe(['--cap-add', 'SYS_ADMIN'], names), denied);
  assert.deepEqual(await probe(['--cap-add', 'SYS_ADMIN', '--security-opt', 'seccomp=unconfined'], names), {
    keyctl: 'OK', add_key: 'OK', request_key: 'ENOKEY', pivot_root: 'EFAULT',
  });
});

test('bpf, perf_event_open and kcmp follow CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE; ptrace of oneself is allowed', async () => {
  const names = ['bpf', 'perf_event_open', 'kcmp', 'ptrace'];
  assert.deepEqual(await probe([], names), { bpf: 'EPERM', perf_event_open: 'EPERM', kcmp: 'EPERM', ptrace: 'OK' });
  assert.deepEqual(await probe(['--cap-add', 'BPF', '--cap-add', 'PERFMON', '--cap-add', 'SYS_PTRACE'], names), {
    bpf: 'EINVAL', perf_event_open: 'EINVAL', kcmp: 'OK', ptrace: 'OK',
  });
});

test('socket families AF_ALG and AF_VSOCK and address-space personalities are refused; ordinary ones work', async () => {
  const names = ['socket_inet', 'socket_alg', 'socket_vsock', 'personality_query', 'personality_linux32', 'personality_no_aslr'];
  assert.deepEqual(await probe([], names), {
    socket_inet: 'OK', socket_alg: 'EPERM', socket_vsock: 'EPERM',
    personality_query: 'OK', personality_linux32: 'OK', personality_no_aslr: 'EPERM',
  });
  const bare = await probe(['--security-opt', 'seccomp=unconfined'], ['socket_alg', 'personality_no_aslr']);
  assert.notEqual(bare.socket_alg, 'EPERM');
  assert.equal(bare.personality_no_aslr, 'OK');
});

test('docker exec runs under the container\'s filter; a custom profile replaces the default', async () => {
  const name = `sc-${Date.now().toString(36)}`;
  const run = await docker(['run', '-d', '--name', name, '-v', `${probeBin}:/probe:ro`, 'busybox', 'sleep', '600']);
  assert.equal(run.code, 0, run.stderr);
  try {
    const ex = await docker(['exec', name, '/probe', 'unshare_user', 'keyctl', 'clone3']);
    assert.equal(ex.code, 0, ex.stderr);
    assert.equal(ex.stdout, 'unshare_user=EPERM\nkeyctl=EPERM\nclone3=ENOSYS\n');
  } finally {
    await docker(['rm', '-f', name]);
  }
  // Allow everything but keyctl: user namespaces open up again, keyctl gets the profile's errno.
  // The docker CLI reads the file and sends its JSON inline.
  const custom = join(dir, 'keyctl-eacces.json');
  await writeFile(custom, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['keyctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }));
  assert.deepEqual(await probe(['--security-opt', `seccomp=${custom}`], ['unshare_user', 'keyctl', 'add_key']), { unshare_user: 'OK', keyctl: 'EACCES', add_key: 'OK' });
});
