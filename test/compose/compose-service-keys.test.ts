// Service keys as the container sees them and inspect shows them, through
// bin/tug compose against a real daemon: user, working_dir, hostname, tmpfs,
// caps, labels, extra_hosts, ulimits, restart, stop_signal and
// stop_grace_period, init, shm_size, logging, deploy limits, a file secret
// at /run/secrets and an inline config at its target, network_mode and pid
// `service:X`, --wait on a healthcheck, and run's --service-ports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LOOP, projectName, setupCompose, type ComposeEnv } from './runtime-helpers.js';

let t: ComposeEnv;
before(async () => {
  t = await setupCompose();
});
after(async () => {
  await t?.cleanup();
});

test('service keys reach the container', async () => {
  const dir = await t.project('keys', {
    'pass.txt': 's3cret\n',
    'compose.yaml': `
services:
  main:
    image: busybox
    command: ["sh", "-c", "${LOOP}"]
    network_mode: bridge
    user: "1000:1000"
    working_dir: /tmp
    hostname: mainhost
    tmpfs: [/scratch]
    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
    labels: {tier: front}
    extra_hosts: ["gw.test:10.9.9.9"]
    ulimits: {nofile: {soft: 1000, hard: 2000}}
    restart: on-failure:3
    stop_signal: SIGUSR1
    stop_grace_period: 3s
    init: true
    shm_size: 32m
    logging:
      driver: json-file
      options: {max-size: 1m}
    deploy:
      resources:
        limits: {memory: 64m, cpus: "0.5"}
    secrets: [pass]
    configs:
      - source: greeting
        target: /etc/greeting
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
  side:
    image: busybox
    command: ["sh", "-c", "${LOOP}"]
    network_mode: "service:main"
    pid: "service:main"
secrets:
  pass:
    file: ./pass.txt
configs:
  greeting:
    content: hello from config
`,
  });
  const p = projectName(dir);
  const up = await t.compose(dir, ['up', '-d', '--wait']);
  assert.equal(up.code, 0, up.stderr);
  assert.ok(up.stderr.includes(` Container ${p}-main-1  Healthy`), up.stderr);
  assert.match(await t.inspect(`${p}-main-1`, '{{.State.Health.Status}}'), /^healthy$/);

  // The soft nofile limit is read from the service's own process (PID 1), not with `ulimit -n` in
  // the exec: runc before 1.1.13 (Debian 12 ships 1.1.5) sets an exec's rlimits from the parent with
  // prlimit, racing the Go runtime of runc init, which raises the soft NOFILE limit to the hard one
  // (opencontainers/runc#4195): now and then an exec here saw 2000.
  const inside = await t.compose(dir, ['exec', '-T', 'main', 'sh', '-c', 'id -u; pwd; hostname; cat /run/secrets/pass /etc/greeting; echo; awk "/Max open files/{print \\$4}" /proc/1/limits; touch /scratch/y && echo tmpfs-ok; grep gw.test /etc/hosts']);
  assert.equal(inside.code, 0, inside.stderr);
  assert.equal(inside.stdout, '1000\n/tmp\nmainhost\ns3cret\nhello from config\n1000\ntmpfs-ok\n10.9.9.9\tgw.test\n');

  const hc = JSON.parse(await t.inspect(`${p}-main-1`, '{{json .HostConfig}}'));
  assert.equal(hc.Memory, 64 * 1024 * 1024);
  assert.equal(hc.NanoCpus, 500_000_000);
  assert.deepEqual(hc.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.equal(hc.Init, true);
  assert.equal(hc.ShmSize, 32 * 1024 * 1024);
  assert.deepEqual(hc.LogConfig, { Type: 'json-file', Config: { 'max-size': '1m' } });
  assert.deepEqual(hc.CapAdd, ['NET_ADMIN']);
  assert.deepEqual(hc.CapDrop, ['MKNOD']);
  const cfg = JSON.parse(await t.inspect(`${p}-main-1`, '{{json .Config}}'));
  assert.equal(cfg.StopSignal, 'SIGUSR1');
  assert.equal(cfg.StopTimeout, 3);
  assert.equal(cfg.Labels.tier, 'front');

  const mainId = await t.inspect(`${p}-main-1`, '{{.Id}}');
  assert.equal(await t.inspect(`${p}-side-1`, '{{.HostConfig.NetworkMode}}'), `container:${mainId}`);
  assert.equal(await t.inspect(`${p}-side-1`, '{{.HostConfig.PidMode}}'), `container:${mainId}`);
  // One pid namespace: side sees main's processes.
  const ps = await t.compose(dir, ['exec', '-T', 'side', 'ps', '-o', 'pid,args']);
  assert.equal(ps.stdout.split('\n').filter((l) => l.includes('while true')).length >= 2, true, ps.stdout);

  // Recreating main leaves side pointing at a container that is gone: the next up recreates side.
  const again = await t.compose(dir, ['up', '-d', '--force-recreate', 'main']);
  assert.equal(again.code, 0, again.stderr);
  const newMain = await t.inspect(`${p}-main-1`, '{{.Id}}');
  assert.notEqual(newMain, mainId);
  const follow = await t.compose(dir, ['up', '-d']);
  assert.equal(follow.code, 0, follow.stderr);
  assert.ok(follow.stderr.includes(` Container ${p}-side-1  Recreated`), follow.stderr);
  assert.ok(follow.stderr.includes(` Container ${p}-main-1  Running`), follow.stderr);
  assert.equal(await t.inspect(`${p}-side-1`, '{{.HostConfig.NetworkMode}}'), `container:${newMain}`);
  assert.equal((await t.compose(dir, ['down', '-t', '1'])).code, 0);
});

test('run publishes the service ports only with --service-ports; exec --index picks a replica', async () => {
  const dir = await t.project('ports', {
    'compose.yaml': `
services:
  web:
    image: busybox
    command: ["sh", "-c", "${LOOP}"]
    network_mode: bridge
    ports: ["80"]
    environment:
      WHO: web
    deploy:
      replicas: 2
`,
  });
  const p = projectName(dir);
  assert.equal((await t.compose(dir, ['up', '-d'])).code, 0);
  const plain = await t.compose(dir, ['run', '-d', 'web']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.doesNotMatch(await t.inspect(plain.stdout.trim(), '{{json .HostConfig.PortBindings}}'), /80\/tcp/);
  const published = await t.compose(dir, ['run', '-d', '--service-ports', 'web']);
  assert.equal(published.code, 0, published.stderr);
  assert.match(await t.inspect(published.stdout.trim(), '{{json .HostConfig.PortBindings}}'), /"80\/tcp"/);

  const second = await t.compose(dir, ['exec', '-T', '--index', '2', 'web', 'hostname']);
  assert.equal(second.stdout.trim(), (await t.inspect(`${p}-web-2`, '{{.Id}}')).slice(0, 12));
  assert.equal((await t.compose(dir, ['down', '-t', '1'])).code, 0);
  assert.equal((await t.tug(dir, ['ps', '-a', '-q', '--filter', `label=com.docker.compose.project=${p}`])).stdout, '');
});
