// buildOciSpec and its parts, checked on the generated config (runc runs are in the other files).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { isKind } from '../../src/errdefs.js';
import { buildOciSpec, containerEnv, validateResources } from '../../src/runtime/spec/container-spec.js';
import { effectiveCapabilities, normalizeCapability } from '../../src/runtime/spec/capabilities.js';
import { parseSecurityOpts } from '../../src/runtime/spec/security-opts.js';
import { DEFAULT_CAPABILITIES, DEFAULT_MASKED_PATHS } from '../../src/runtime/spec/security-defaults.js';
import { resourcesToOci } from '../../src/runtime/cgroups/index.js';
import { baseInput, makeSandbox, rand, type Sandbox } from './harness.js';

let sb: Sandbox;
before(async () => {
  sb = await makeSandbox();
});
after(async () => {
  await sb.cleanup();
});

const isInvalid = (re: RegExp) => (err: unknown): boolean => isKind(err, 'invalid') && re.test((err as Error).message);
const MiB = 1024 * 1024;

test('validateResources uses Docker\'s wording', () => {
  const cases: Array<[Parameters<typeof validateResources>[0], RegExp]> = [
    [{ memory: 1 * MiB }, /^Minimum memory limit allowed is 6MB$/],
    [{ memory: -5 }, /^Minimum memory limit allowed is 6MB$/],
    [{ memory: 64 * MiB, memorySwap: 32 * MiB }, /^Minimum memoryswap limit should be larger than memory limit, see usage$/],
    [{ memorySwap: 64 * MiB }, /^You should always set the Memory limit when using Memoryswap limit, see usage$/],
    [{ memoryReservation: 1024 }, /^Minimum memory reservation allowed is 6MB$/],
    [{ memory: 16 * MiB, memoryReservation: 32 * MiB }, /can not be less than memory reservation/],
    [{ nanoCpus: 64e9 }, /^Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available$/],
    [{ nanoCpus: -1 }, /^Range of CPUs/],
    [{ nanoCpus: 1e9, cpuQuota: 50000 }, /^Conflicting options: Nano CPUs and CPU Quota cannot both be set$/],
    [{ nanoCpus: 1e9, cpuPeriod: 50000 }, /^Conflicting options: Nano CPUs and CPU Period cannot both be set$/],
    [{ cpuPeriod: 10 }, /^CPU cfs period can not be less than 1ms/],
    [{ cpuQuota: 10 }, /^CPU cfs quota can not be less than 1ms/],
    [{ cpuShares: -3 }, /CPU shares/],
    [{ cpusetCpus: '0-7' }, /^Requested CPUs are not available - requested 0-7, available: 0-1$/],
    [{ cpusetCpus: 'x' }, /^Invalid value x for cpuset cpus$/],
    [{ memory: 1.5 * MiB + 0.5 }, /must be an integer/],
  ];
  for (const [r, re] of cases) assert.throws(() => validateResources(r, 2), isInvalid(re), JSON.stringify(r));
  assert.doesNotThrow(() => validateResources({ memory: 6 * MiB, memorySwap: -1, nanoCpus: 1.5e9, cpuShares: 512, cpusetCpus: '0,1', pidsLimit: -1 }, 2));
});

test('resourcesToOci maps Docker fields to OCI, with Docker\'s swap and period defaults', () => {
  assert.deepEqual(resourcesToOci({}), {});
  const r = resourcesToOci({ memory: 32 * MiB, nanoCpus: 1.5e9, cpuShares: 1, cpusetCpus: '0', pidsLimit: 0 });
  assert.equal(r.memory?.limit, 32 * MiB);
  assert.equal(r.memory?.swap, 64 * MiB);
  assert.deepEqual(r.cpu, { shares: 2, period: 100000, quota: 150000, cpus: '0' });
  assert.deepEqual(r.pids, { limit: -1 });
  assert.deepEqual(resourcesToOci({ memory: 32 * MiB, memorySwap: -1 }).memory, { limit: 32 * MiB, swap: -1 });
  assert.deepEqual(resourcesToOci({ cpuPeriod: 50000, cpuQuota: 25000 }).cpu, { period: 50000, quota: 25000 });
});

test('capability names normalise like Docker and unknown ones are refused', async () => {
  assert.equal(normalizeCapability('net_admin'), 'CAP_NET_ADMIN');
  assert.equal(normalizeCapability('CAP_SYS_TIME'), 'CAP_SYS_TIME');
  assert.equal(normalizeCapability('all'), 'ALL');
  assert.throws(() => normalizeCapability('FLY'), isInvalid(/^unknown capability: "CAP_FLY"$/));
  assert.deepEqual(await effectiveCapabilities([], [], false), [...DEFAULT_CAPABILITIES]);
  const allButChown = await effectiveCapabilities(['ALL'], ['CHOWN'], false);
  assert.ok(allButChown.includes('CAP_SYS_ADMIN') && !allButChown.includes('CAP_CHOWN'));
  assert.deepEqual(await effectiveCapabilities(['NET_RAW', 'net_raw'], ['ALL'], false), ['CAP_NET_RAW']);
});

test('security options: known ones parse, anything else is invalid', () => {
  assert.deepEqual(parseSecurityOpts([]), { noNewPrivileges: false, seccomp: 'default', unmaskSystemPaths: false });
  assert.equal(parseSecurityOpts(['no-new-privileges=false']).noNewPrivileges, false);
  assert.equal(parseSecurityOpts(['no-new-privileges:true']).noNewPrivileges, true);
  assert.equal(parseSecurityOpts(['seccomp:unconfined']).seccomp, 'unconfined');
  assert.deepEqual(parseSecurityOpts(['seccomp=/etc/p.json']).seccomp, { path: '/etc/p.json' });
  assert.equal(parseSecurityOpts(['systempaths=unconfined']).unmaskSystemPaths, true);
  for (const bad of ['bogus', 'foo=bar', 'no-new-privileges=maybe', 'seccomp=relative.json', 'apparmor=docker-default']) {
    assert.throws(() => parseSecurityOpts([bad]), (e: unknown) => isKind(e, 'invalid'), bad);
  }
});

test('buildOciSpec: Docker defaults for an ordinary container', async () => {
  const spec = await buildOciSpec(baseInput(sb, `t-${rand()}`, ['sh'], { tty: true, shmSize: 128 * MiB }));
  assert.equal(spec.ociVersion, '1.0.2');
  assert.equal(spec.process.terminal, true);
  assert.ok(spec.process.env.includes('TERM=xterm'));
  assert.deepEqual(spec.process.capabilities.bounding, [...DEFAULT_CAPABILITIES]);
  assert.deepEqual(spec.process.capabilities.inheritable, []);
  assert.deepEqual(spec.linux.maskedPaths, [...DEFAULT_MASKED_PATHS]);
  assert.ok(spec.linux.readonlyPaths?.includes('/proc/sys'));
  assert.deepEqual(spec.mounts.map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm']);
  assert.ok(spec.mounts.find((m) => m.destination === '/dev/shm')?.options?.includes(`size=${128 * MiB}`));
  assert.ok(spec.mounts.find((m) => m.destination === '/sys')?.options?.includes('ro'));
  assert.deepEqual(spec.linux.namespaces.map((n) => n.type).filter((t) => t !== 'cgroup'), ['pid', 'ipc', 'uts', 'mount', 'network']);
  assert.equal(spec.linux.resources?.devices?.[0]?.allow, false);
  assert.equal(spec.linux.sysctl?.['net.ipv4.ip_unprivileged_port_start'], '0');
  // Docker's built-in profile (test/runtime-spec/seccomp-default.test.ts checks its rules).
  assert.equal(spec.linux.seccomp?.defaultErrnoRet, 1);
  assert.deepEqual(spec.linux.seccomp?.syscalls?.filter((s) => s.names.includes('clone3')).map((s) => s.errnoRet), [38]);
  assert.equal(spec.linux.devices, undefined);
  JSON.parse(JSON.stringify(spec)); // plain data, ready for config.json
});

test('buildOciSpec: user mounts replace defaults, sort parents first, and refuse duplicates', async () => {
  const spec = await buildOciSpec(baseInput(sb, `t-${rand()}`, ['sh'], {
    mounts: [
      { type: 'bind', source: '/tmp', destination: '/a/b/c', readonly: true },
      { type: 'tmpfs', source: '', destination: '/dev/shm', readonly: false, options: ['size=1m'] },
      { type: 'bind', source: '/tmp', destination: '/a', readonly: false, options: ['rslave,z', 'ro'] },
    ],
    etcFiles: { hosts: '/etc/hosts', resolvConf: '/etc/resolv.conf' },
    readonlyRootfs: true,
  }));
  const dests = spec.mounts.map((m) => m.destination);
  assert.equal(dests.filter((d) => d === '/dev/shm').length, 1);
  assert.ok(dests.indexOf('/a') < dests.indexOf('/a/b/c'));
  assert.deepEqual(spec.mounts.find((m) => m.destination === '/a')?.options, ['rbind', 'rslave', 'rw']);
  assert.deepEqual(spec.mounts.find((m) => m.destination === '/a/b/c')?.options, ['rbind', 'rprivate', 'ro']);
  assert.deepEqual(spec.mounts.find((m) => m.destination === '/dev/shm')?.options, ['nosuid', 'nodev', 'noexec', 'size=1m']);
  assert.deepEqual(spec.mounts.find((m) => m.destination === '/etc/hosts')?.options, ['rbind', 'rprivate', 'ro']);
  assert.equal(spec.root.readonly, true);
  await assert.rejects(buildOciSpec(baseInput(sb, 'x', ['sh'], {
    mounts: [{ type: 'bind', source: '/tmp', destination: '/d', readonly: false }, { type: 'tmpfs', source: '', destination: '/d/', readonly: false }],
  })), isInvalid(/Duplicate mount point: \/d/));
  await assert.rejects(buildOciSpec(baseInput(sb, 'x', ['sh'], { mounts: [{ type: 'bind', source: 'rel', destination: '/d', readonly: false }] })), isInvalid(/must be absolute/));
  await assert.rejects(buildOciSpec(baseInput(sb, 'x', ['sh'], { mounts: [{ type: 'bind', source: '/tmp', destination: 'd', readonly: false }] })), isInvalid(/not an absolute path/));
});

test('buildOciSpec: networks, sysctls, ulimits and other inputs are checked', async () => {
  const host = await buildOciSpec(baseInput(sb, 'x', ['sh'], { network: { mode: 'host' } }));
  assert.ok(!host.linux.namespaces.some((n) => n.type === 'network'));
  assert.equal(host.linux.sysctl, undefined);
  const joined = await buildOciSpec(baseInput(sb, 'x', ['sh'], { network: { mode: 'path', netnsPath: '/run/netns/n1' }, sysctls: { 'net.ipv4.ip_forward': '1' } }));
  assert.deepEqual(joined.linux.namespaces.find((n) => n.type === 'network'), { type: 'network', path: '/run/netns/n1' });
  assert.equal(joined.linux.sysctl?.['net.ipv4.ip_forward'], '1');
  const bad: Array<[Partial<Parameters<typeof baseInput>[3]>, RegExp]> = [
    [{ network: { mode: 'host' }, sysctls: { 'net.ipv4.ip_forward': '1' } }, /not allowed in host network namespace/],
    [{ sysctls: { 'vm.swappiness': '0' } }, /is not whitelisted/],
    [{ ulimits: [{ Name: 'nofile', Soft: 10, Hard: 5 }] }, /soft limit must be less than or equal to hard limit: 10 > 5/],
    [{ ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] }, /invalid ulimit type: bogus/],
    [{ oomScoreAdj: 2000 }, /range for oom score adj is \[-1000, 1000\]/],
    [{ args: [] }, /No command specified/],
    [{ cwd: 'relative' }, /needs to be an absolute path/],
    [{ capAdd: ['NOPE'] }, /unknown capability/],
    [{ securityOpt: ['nope'] }, /invalid --security-opt/],
    [{ resources: { memory: 1 } }, /Minimum memory limit/],
    [{ devices: [{ PathOnHost: '/dev/definitely-not-here', PathInContainer: '', CgroupPermissions: 'rwm' }] }, /no such file or directory/],
    [{ devices: [{ PathOnHost: '/dev/null', PathInContainer: '', CgroupPermissions: 'rwx' }] }, /permissions/],
  ];
  for (const [over, re] of bad) await assert.rejects(buildOciSpec(baseInput(sb, 'x', ['sh'], over)), isInvalid(re), JSON.stringify(over));
  const lim = await buildOciSpec(baseInput(sb, 'x', ['sh'], { ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }, { Name: 'core', Soft: -1, Hard: -1 }], oomScoreAdj: 500 }));
  assert.deepEqual(lim.process.rlimits?.[0], { type: 'RLIMIT_NOFILE', soft: 100, hard: 200 });
  assert.equal(lim.process.oomScoreAdj, 500);
});

test('buildOciSpec: privileged means all devices, writable /sys, no masks and no seccomp', async () => {
  const spec = await buildOciSpec(baseInput(sb, 'x', ['sh'], { privileged: true, securityOpt: ['seccomp={"defaultAction":"SCMP_ACT_KILL"}'] }));
  assert.deepEqual(spec.linux.maskedPaths, []);
  assert.deepEqual(spec.linux.readonlyPaths, []);
  assert.equal(spec.linux.seccomp, undefined);
  assert.deepEqual(spec.linux.resources?.devices, [{ allow: true, access: 'rwm' }]);
  assert.ok(spec.linux.devices?.some((d) => d.path === '/dev/null' && d.major === 1 && d.minor === 3));
  assert.ok(spec.mounts.find((m) => m.destination === '/sys')?.options?.includes('rw'));
});

test('containerEnv: defaults first, user values replace or append', () => {
  assert.deepEqual(containerEnv(['A=1', 'HOSTNAME=mine', 'EMPTY='], 'h', false), [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'HOSTNAME=mine',
    'A=1',
    'EMPTY=',
  ]);
});
