// The built-in seccomp profile, resolved for one container (caps, arch,
// kernel) by seccompToOci, checked against Docker's default policy. `verdict`
// reads the OCI rules the way libseccomp applies them (a rule matches when
// its name and every argument comparison match; otherwise the default
// action), so the tests state what a syscall gets, not how rules are laid out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerDefaultSeccompProfile, CLONE_NAMESPACE_FLAGS } from '../../src/runtime/spec/seccomp-default.js';
import { parseSeccompProfile, seccompToOci } from '../../src/runtime/spec/seccomp.js';
import { DEFAULT_CAPABILITIES, ALL_CAPABILITY_NAMES } from '../../src/runtime/spec/security-defaults.js';
import type { OciSeccomp, OciSeccompArg } from '../../src/runtime/spec/oci-runtime-types.js';
import { isKind } from '../../src/errdefs.js';

const SIGCHLD = 17;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNET = 0x40000000;
const CLONE_THREAD_FLAGS = 0x3d0f00; // what glibc's pthread_create passes to clone

function argMatches(a: OciSeccompArg, args: readonly number[]): boolean {
  const v = BigInt(args[a.index] ?? 0);
  const want = BigInt(a.value);
  switch (a.op) {
    case 'SCMP_CMP_EQ': return v === want;
    case 'SCMP_CMP_NE': return v !== want;
    case 'SCMP_CMP_LT': return v < want;
    case 'SCMP_CMP_LE': return v <= want;
    case 'SCMP_CMP_GT': return v > want;
    case 'SCMP_CMP_GE': return v >= want;
    case 'SCMP_CMP_MASKED_EQ': return (v & want) === BigInt(a.valueTwo ?? 0);
    default: throw new Error(`op ${a.op}`);
  }
}

/** 'ALLOW', or 'EPERM' / 'ENOSYS' for an errno action. */
function verdict(oci: OciSeccomp, name: string, args: readonly number[] = []): string {
  const actions = new Set<string>();
  for (const r of oci.syscalls ?? []) {
    if (!r.names.includes(name)) continue;
    if (!(r.args ?? []).every((a) => argMatches(a, args))) continue;
    actions.add(r.action === 'SCMP_ACT_ALLOW' ? 'ALLOW' : r.action === 'SCMP_ACT_ERRNO' ? errnoName(r.errnoRet ?? 1) : r.action);
  }
  assert.ok(actions.size <= 1, `${name}(${args.join(', ')}): rules disagree: ${[...actions].join(', ')}`);
  if (actions.size === 1) return [...actions][0]!;
  assert.equal(oci.defaultAction, 'SCMP_ACT_ERRNO');
  return errnoName(oci.defaultErrnoRet ?? 1);
}
const errnoName = (n: number): string => ({ 1: 'EPERM', 38: 'ENOSYS' })[n] ?? `errno ${n}`;

const KERNEL = '6.1.0-18-amd64';
const forCaps = (caps: readonly string[], arch = 'amd64', kernel = KERNEL): OciSeccomp => seccompToOci(dockerDefaultSeccompProfile(), caps, arch, kernel);
const withCap = (...add: string[]): string[] => [...DEFAULT_CAPABILITIES, ...add];

test('default action EPERM; x86_64 filters its 32-bit ABIs, arm64 its arm one', () => {
  const oci = forCaps(DEFAULT_CAPABILITIES);
  assert.equal(oci.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(oci.defaultErrnoRet, 1);
  assert.deepEqual(oci.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepEqual(forCaps(DEFAULT_CAPABILITIES, 'arm64').architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.equal(verdict(oci, 'read'), 'ALLOW');
  assert.equal(verdict(oci, 'openat'), 'ALLOW');
  assert.equal(verdict(oci, 'arch_prctl'), 'ALLOW');
  assert.equal(verdict(forCaps(DEFAULT_CAPABILITIES, 'arm64'), 'arch_prctl'), 'EPERM');
  assert.equal(verdict(forCaps(DEFAULT_CAPABILITIES, 'arm64'), 'set_tls'), 'ALLOW');
  assert.equal(verdict(oci, 'set_tls'), 'EPERM');
});

test('namespaces: unshare, setns and namespace flags of clone need CAP_SYS_ADMIN; clone3 is ENOSYS without it', () => {
  const plain = forCaps(DEFAULT_CAPABILITIES);
  const admin = forCaps(withCap('CAP_SYS_ADMIN'));
  assert.equal(CLONE_NAMESPACE_FLAGS, 0x7e020000);
  for (const name of ['unshare', 'setns']) {
    assert.equal(verdict(plain, name, [CLONE_NEWUSER]), 'EPERM', name);
    assert.equal(verdict(admin, name, [CLONE_NEWUSER]), 'ALLOW', name);
  }
  // fork and threads pass; any namespace flag, alone or mixed in, does not.
  assert.equal(verdict(plain, 'clone', [SIGCHLD]), 'ALLOW');
  assert.equal(verdict(plain, 'clone', [CLONE_THREAD_FLAGS]), 'ALLOW');
  assert.equal(verdict(plain, 'clone', [CLONE_NEWUSER | SIGCHLD]), 'EPERM');
  assert.equal(verdict(plain, 'clone', [CLONE_NEWNET | CLONE_THREAD_FLAGS]), 'EPERM');
  assert.equal(verdict(admin, 'clone', [CLONE_NEWUSER | SIGCHLD]), 'ALLOW');
  assert.equal(verdict(plain, 'clone3'), 'ENOSYS');
  assert.equal(verdict(admin, 'clone3'), 'ALLOW');
  // s390 passes clone's flags second.
  const s390 = forCaps(DEFAULT_CAPABILITIES, 's390x');
  assert.equal(verdict(s390, 'clone', [0, CLONE_NEWUSER | SIGCHLD]), 'EPERM');
  assert.equal(verdict(s390, 'clone', [CLONE_NEWUSER | SIGCHLD, SIGCHLD]), 'ALLOW');
});

test('mounts, the new mount API, bpf and perf need CAP_SYS_ADMIN (or CAP_BPF / CAP_PERFMON)', () => {
  const plain = forCaps(DEFAULT_CAPABILITIES);
  const admin = forCaps(withCap('CAP_SYS_ADMIN'));
  for (const name of ['mount', 'umount2', 'fsopen', 'fsmount', 'move_mount', 'open_tree', 'mount_setattr', 'quotactl', 'sethostname', 'syslog', 'bpf', 'perf_event_open', 'fanotify_init']) {
    assert.equal(verdict(plain, name), 'EPERM', name);
    assert.equal(verdict(admin, name), 'ALLOW', name);
  }
  assert.equal(verdict(forCaps(withCap('CAP_BPF')), 'bpf'), 'ALLOW');
  assert.equal(verdict(forCaps(withCap('CAP_PERFMON')), 'perf_event_open'), 'ALLOW');
  assert.equal(verdict(forCaps(withCap('CAP_SYSLOG')), 'syslog'), 'ALLOW');
});

test('the keyring, pivot_root, swap, kexec and userfaultfd stay shut even with every capability', () => {
  const all = forCaps(ALL_CAPABILITY_NAMES);
  for (const name of ['keyctl', 'add_key', 'request_key', 'pivot_root', 'swapon', 'swapoff', 'kexec_load', 'kexec_file_load', 'userfaultfd', 'nfsservctl', 'uselib']) {
    assert.equal(verdict(all, name), 'EPERM', name);
  }
});

test('ptrace: allowed on kernels >= 4.8 (seccomp can no longer be bypassed), else only with CAP_SYS_PTRACE', () => {
  assert.equal(verdict(forCaps(DEFAULT_CAPABILITIES, 'amd64', '4.8.0'), 'ptrace'), 'ALLOW');
  assert.equal(verdict(forCaps(DEFAULT_CAPABILITIES, 'amd64', '4.4.0-210-generic'), 'ptrace'), 'EPERM');
  assert.equal(verdict(forCaps(withCap('CAP_SYS_PTRACE'), 'amd64', '4.4.0'), 'ptrace'), 'ALLOW');
  assert.equal(verdict(forCaps(DEFAULT_CAPABILITIES), 'kcmp'), 'EPERM');
  assert.equal(verdict(forCaps(withCap('CAP_SYS_PTRACE')), 'kcmp'), 'ALLOW');
});

test('capability-gated calls follow the bounding set, both ways', () => {
  const cases: Array<[string, string]> = [
    ['CAP_SYS_CHROOT', 'chroot'], ['CAP_SYS_BOOT', 'reboot'], ['CAP_SYS_MODULE', 'finit_module'], ['CAP_SYS_PACCT', 'acct'],
    ['CAP_SYS_RAWIO', 'iopl'], ['CAP_SYS_TIME', 'settimeofday'], ['CAP_SYS_TTY_CONFIG', 'vhangup'],
    ['CAP_SYS_NICE', 'mbind'], ['CAP_DAC_READ_SEARCH', 'open_by_handle_at'],
  ];
  for (const [cap, name] of cases) {
    assert.equal(verdict(forCaps([cap]), name), 'ALLOW', `${name} with ${cap}`);
    assert.equal(verdict(forCaps(ALL_CAPABILITY_NAMES.filter((c) => c !== cap)), name), 'EPERM', `${name} without ${cap}`);
  }
  // chroot is in Docker's default set; drop it and chroot goes.
  assert.equal(verdict(forCaps(DEFAULT_CAPABILITIES), 'chroot'), 'ALLOW');
});

test('socket: every family but AF_ALG (38) and AF_VSOCK (40); personality: only the harmless personas', () => {
  const oci = forCaps(DEFAULT_CAPABILITIES);
  for (const family of [1, 2, 10, 16, 17, 37, 39, 41, 44]) assert.equal(verdict(oci, 'socket', [family]), 'ALLOW', `family ${family}`);
  assert.equal(verdict(oci, 'socket', [38]), 'EPERM');
  assert.equal(verdict(oci, 'socket', [40]), 'EPERM');
  for (const p of [0, 0x8, 0x20000, 0x20008, 0xffffffff]) assert.equal(verdict(oci, 'personality', [p]), 'ALLOW', `persona ${p}`);
  for (const p of [0x40000 /* ADDR_NO_RANDOMIZE */, 0x400000 /* READ_IMPLIES_EXEC */, 0x1]) assert.equal(verdict(oci, 'personality', [p]), 'EPERM', `persona ${p}`);
});

test('the built-in profile is plain Docker profile JSON: it round-trips through the --security-opt parser unchanged', () => {
  const profile = dockerDefaultSeccompProfile();
  const reparsed = parseSeccompProfile(JSON.stringify(profile));
  assert.deepEqual(seccompToOci(reparsed, DEFAULT_CAPABILITIES, 'amd64', KERNEL), forCaps(DEFAULT_CAPABILITIES));
  // Every rule has names, and no name is both always allowed and conditioned.
  const always = new Set(profile.syscalls?.[0]?.names);
  assert.ok(always.size > 300);
  for (const r of profile.syscalls?.slice(1) ?? []) {
    assert.ok(r.names?.length);
    for (const n of r.names ?? []) assert.ok(!always.has(n), `${n} is both always allowed and conditioned`);
  }
});

test('seccompToOci: excludes.minKernel drops a rule on new kernels; name and names together are refused', () => {
  const profile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['open_tree'], action: 'SCMP_ACT_ERRNO', excludes: { minKernel: '5.2' } }] };
  assert.equal(verdict(seccompToOci(profile, [], 'amd64', '5.1.0'), 'open_tree'), 'EPERM');
  assert.deepEqual(seccompToOci(profile, [], 'amd64', '5.2.0').syscalls, []);
  const both = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'read', names: ['write'], action: 'SCMP_ACT_ERRNO' }] };
  assert.throws(() => seccompToOci(both, []), (e: unknown) => isKind(e, 'invalid') && /both 'name' and 'names'/.test((e as Error).message));
});
