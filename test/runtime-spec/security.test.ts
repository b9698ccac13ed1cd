// Docker's security defaults, proven against real runc containers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeSandbox, runContainer, type Sandbox } from './harness.js';

let sb: Sandbox;
before(async () => {
  sb = await makeSandbox();
});
after(async () => {
  await sb.cleanup();
});

const status = async (field: string, over: Parameters<typeof runContainer>[2] = {}): Promise<string> => {
  const r = await runContainer(sb, ['grep', `^${field}:`, '/proc/self/status'], over);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split(':')[1].trim();
};

test('default capabilities match Docker (CapEff 00000000a80425fb)', async () => {
  assert.equal(await status('CapEff'), '00000000a80425fb');
  assert.equal(await status('CapBnd'), '00000000a80425fb');
  assert.equal(await status('CapInh'), '0000000000000000');
});

test('--cap-drop ALL leaves no capabilities; --cap-add NET_ADMIN adds bit 12', async () => {
  assert.equal(await status('CapEff', { capDrop: ['ALL'] }), '0000000000000000');
  assert.equal(await status('CapEff', { capAdd: ['NET_ADMIN'] }), (0xa80425fb + 2 ** 12).toString(16).padStart(16, '0'));
  assert.equal(await status('CapEff', { capDrop: ['ALL'], capAdd: ['cap_kill'] }), (2 ** 5).toString(16).padStart(16, '0'));
  assert.equal(await status('CapEff', { capDrop: ['chown', 'CAP_KILL'] }), (0xa80425fb - 2 ** 0 - 2 ** 5).toString(16).padStart(16, '0'));
});

test('without CAP_NET_ADMIN the container cannot change its interfaces; with it, it can', async () => {
  const script = ['sh', '-c', 'ip link set lo mtu 1280 && echo CHANGED || echo DENIED'];
  assert.match((await runContainer(sb, script)).stdout, /DENIED/);
  assert.match((await runContainer(sb, script, { capAdd: ['NET_ADMIN'] })).stdout, /CHANGED/);
});

test('seccomp filter is on by default (mode 2) and off with seccomp=unconfined', async () => {
  assert.equal(await status('Seccomp'), '2');
  assert.equal(await status('Seccomp', { securityOpt: ['seccomp=unconfined'] }), '0');
});

test('the default seccomp profile blocks swapoff even with CAP_SYS_ADMIN', async () => {
  // With CAP_SYS_ADMIN only seccomp stands between the container and swapoff(2);
  // the path does not exist, so an allowed call fails harmlessly with ENOENT.
  const script = ['sh', '-c', 'swapoff /no-such-swap-file 2>&1; true'];
  assert.match((await runContainer(sb, script, { capAdd: ['SYS_ADMIN'] })).stdout, /not permitted/i);
  assert.match((await runContainer(sb, script, { capAdd: ['SYS_ADMIN'], securityOpt: ['seccomp=unconfined'] })).stdout, /No such file/);
});

test('the profile follows capabilities: sethostname passes the filter with CAP_SYS_ADMIN', async () => {
  // sethostname is per UTS namespace, so it only ever touches the container.
  const script = ['sh', '-c', 'hostname renamed 2>&1; hostname'];
  assert.match((await runContainer(sb, script)).stdout, /not permitted/i);
  assert.match((await runContainer(sb, script, { capAdd: ['SYS_ADMIN'] })).stdout, /^renamed$/m);
});

test('a custom seccomp profile, inline JSON (as the docker CLI sends it) or a path, bites', async () => {
  const { writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const profile = JSON.stringify({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['sethostname'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }],
  });
  const path = join(sb.dir, 'profile.json');
  await writeFile(path, profile);
  const script = ['sh', '-c', 'hostname renamed 2>&1; hostname'];
  for (const opt of [`seccomp=${profile}`, `seccomp=${path}`]) {
    const r = await runContainer(sb, script, { capAdd: ['SYS_ADMIN'], securityOpt: [opt] });
    assert.match(r.stdout, /not implemented/i, opt);
    assert.doesNotMatch(r.stdout, /^renamed$/m);
  }
});

test('no-new-privileges sets NoNewPrivs', async () => {
  assert.equal(await status('NoNewPrivs'), '0');
  assert.equal(await status('NoNewPrivs', { securityOpt: ['no-new-privileges'] }), '1');
  assert.equal(await status('NoNewPrivs', { securityOpt: ['no-new-privileges:true'] }), '1');
});

test('masked paths read empty and /proc/sys is read-only; privileged lifts both', async () => {
  const script = ['sh', '-c', 'echo "timer_list=$(wc -c < /proc/timer_list)"; echo tug > /proc/sys/kernel/domainname && echo WROTE || echo DENIED'];
  const def = await runContainer(sb, script);
  assert.match(def.stdout, /timer_list=0\n/);
  assert.match(def.stdout, /DENIED/);
  const priv = await runContainer(sb, script, { privileged: true });
  assert.doesNotMatch(priv.stdout, /timer_list=0\n/);
  // kernel.domainname is per UTS namespace, so this write touches only the container.
  assert.match(priv.stdout, /WROTE/);
});

test('privileged gets every capability we hold and no seccomp', async () => {
  const r = await runContainer(sb, ['grep', '-E', '^(CapEff|Seccomp):', '/proc/self/status'], { privileged: true });
  assert.equal(r.code, 0, r.stderr);
  const ours = /CapBnd:\s*([0-9a-f]+)/.exec(await import('node:fs/promises').then((f) => f.readFile('/proc/self/status', 'utf8')))![1];
  assert.match(r.stdout, new RegExp(`CapEff:\\s*${ours}`));
  assert.match(r.stdout, /Seccomp:\s*0/);
});

test('read-only rootfs refuses writes while a tmpfs mount stays writable', async () => {
  const r = await runContainer(sb, ['sh', '-c', 'touch /x && echo ROOT-WRITABLE || echo ROOT-RO; echo data > /scratch/f && cat /scratch/f; grep " /scratch " /proc/mounts'], {
    readonlyRootfs: true,
    mounts: [{ type: 'tmpfs', source: '', destination: '/scratch', readonly: false, options: ['size=1m,mode=1777'] }],
  });
  assert.match(r.stdout, /ROOT-RO/);
  assert.match(r.stdout, /^data$/m);
  assert.match(r.stdout, /tmpfs \/scratch tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k/);
});

test('a bind mount shows host files, read-only when asked', async () => {
  const { writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  await writeFile(join(sb.dir, 'shared.txt'), 'from-host\n');
  const r = await runContainer(sb, ['sh', '-c', 'cat /data/shared.txt; echo x > /data/new && echo WROTE || echo DENIED'], {
    mounts: [{ type: 'bind', source: sb.dir, destination: '/data', readonly: true }],
  });
  assert.match(r.stdout, /from-host/);
  assert.match(r.stdout, /DENIED/);
});

test('user resolution: names, numbers and supplementary groups', async () => {
  const id = async (user: string): Promise<string> => {
    const r = await runContainer(sb, ['sh', '-c', 'echo "$(id -u) $(id -g) $(id -G)"'], { user });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };
  // `id -G` lists the kernel's (sorted) supplementary groups.
  assert.equal(await id(''), '0 0 0 10');
  assert.equal(await id('alice'), '1000 1000 1000 10 50');
  assert.equal(await id('alice:staff'), '1000 50 50');
  assert.equal(await id('1000'), '1000 1000 1000 10 50');
  assert.equal(await id('4321:8765'), '4321 8765 8765');
  await assert.rejects(runContainer(sb, ['true'], { user: 'mallory' }), /unable to find user mallory/);
  await assert.rejects(runContainer(sb, ['true'], { user: 'alice:nosuchgroup' }), /unable to find group nosuchgroup/);
});

test('--init runs the command under tini as pid 1', async () => {
  const r = await runContainer(sb, ['sh', '-c', 'tr "\\0" " " < /proc/1/cmdline; echo; echo "me=$$"'], { init: true });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\/sbin\/docker-init -- sh -c /);
  assert.doesNotMatch(r.stdout, /me=1$/m);
});

test('environment: PATH and HOSTNAME defaults, user values win, ulimits and hostname apply', async () => {
  const r = await runContainer(sb, ['sh', '-c', 'echo "path=$PATH host=$HOSTNAME foo=$FOO term=${TERM:-none}"; hostname; ulimit -n; cat /proc/sys/kernel/domainname'], {
    env: ['FOO=bar', 'PATH=/bin'],
    hostname: 'boxy',
    domainname: 'example.test',
    ulimits: [{ Name: 'nofile', Soft: 321, Hard: 654 }],
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /path=\/bin host=boxy foo=bar term=none/);
  assert.match(r.stdout, /^boxy$/m);
  assert.match(r.stdout, /^321$/m);
  assert.match(r.stdout, /^example\.test$/m);
});

test('--device passes a host node through with its cgroup permissions; other nodes stay closed', async () => {
  // An unbound loop device is not in the default allow-list; opening it (writing nothing) is harmless.
  const script = ['sh', '-c', 'stat -c "%F %t:%T" /dev/myloop; (: < /dev/myloop) && echo READ-OK; (: > /dev/myloop) 2>/dev/null && echo WRITE-OK || echo WRITE-DENIED'];
  const device = (perms: string) => ({ devices: [{ PathOnHost: '/dev/loop7', PathInContainer: '/dev/myloop', CgroupPermissions: perms }] });
  const rw = await runContainer(sb, script, device('rwm'));
  assert.match(rw.stdout, /block special file 7:7/);
  assert.match(rw.stdout, /READ-OK/);
  assert.match(rw.stdout, /WRITE-OK/);
  const ro = await runContainer(sb, script, device('r'));
  assert.match(ro.stdout, /READ-OK/);
  assert.match(ro.stdout, /WRITE-DENIED/);
  // mknod is allowed (as in Docker) but the device cgroup refuses to open what is not on the list.
  const other = await runContainer(sb, ['sh', '-c', 'mknod /tmp/blk b 7 7 && (: < /tmp/blk) 2>&1; true']);
  assert.match(other.stdout, /not permitted/i);
});
