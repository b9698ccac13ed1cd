import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixture, load, loadError } from './fixture.js';
import { parsePortString } from '../../src/compose/model/ports.js';
import { shellSplit } from '../../src/compose/model/shell-split.js';
import { formatDuration, parseDuration, parseSize } from '../../src/compose/model/units.js';

async function service(yaml: string, files: Record<string, string> = {}): Promise<{ dir: string; svc: import('../../src/compose/model/project-types.js').ServiceConfig }> {
  const dir = await fixture({ 'compose.yaml': `services:\n  s:\n    image: busybox\n${yaml}`, ...files });
  const p = await load(dir);
  return { dir, svc: p.services.s! };
}

test('port short syntax: host:container, ip, udp, ranges, ipv6, bare', () => {
  const p = (host_ip: string, published: string, target: number, protocol = 'tcp') => ({ host_ip, published, target, protocol, mode: 'ingress' });
  assert.deepEqual(parsePortString('8000:80'), [p('', '8000', 80)]);
  assert.deepEqual(parsePortString('127.0.0.1:8000:80/udp'), [p('127.0.0.1', '8000', 80, 'udp')]);
  assert.deepEqual(parsePortString('80'), [p('', '', 80)]);
  assert.deepEqual(parsePortString('127.0.0.1::80'), [p('127.0.0.1', '', 80)]);
  assert.deepEqual(parsePortString('8000-8001:80-81'), [p('', '8000', 80), p('', '8001', 81)]);
  assert.deepEqual(parsePortString('9000-9010:80'), [p('', '9000-9010', 80)]);
  assert.deepEqual(parsePortString('3000-3001'), [p('', '', 3000), p('', '', 3001)]);
  assert.deepEqual(parsePortString('[::1]:8000:80'), [p('::1', '8000', 80)]);
  assert.throws(() => parsePortString('8000-8002:80-81'), /differ in size/);
  assert.throws(() => parsePortString('8000:80/sctpx'), /invalid protocol "sctpx"/);
  assert.throws(() => parsePortString('http:80'), /invalid host port "http"/);
  assert.throws(() => parsePortString('70000:80'), /ports are 1-65535/);
});

test('ports in a file: numbers, strings and the long syntax; a bad one names its line', async () => {
  const { svc } = await service('    ports:\n      - 80\n      - "8080:8080"\n      - target: 443\n        published: 8443\n        host_ip: 127.0.0.1\n        mode: host\n');
  assert.deepEqual(svc.ports, [
    { target: 80, published: '', host_ip: '', protocol: 'tcp', mode: 'ingress' },
    { target: 8080, published: '8080', host_ip: '', protocol: 'tcp', mode: 'ingress' },
    { target: 443, published: '8443', host_ip: '127.0.0.1', protocol: 'tcp', mode: 'host' },
  ]);
  const dir = await fixture({ 'compose.yaml': 'services:\n  s:\n    image: busybox\n    ports:\n      - "80"\n      - "x:80"\n' });
  assert.equal(await loadError(dir), 'compose.yaml:6: services.s.ports[1]: invalid host port "x" in "x:80"');
});

test('volumes: named, bind relative and home, anonymous, modes, long syntax, tmpfs', async () => {
  const { dir, svc } = await service(
    [
      '    volumes:',
      '      - data:/data:ro',
      '      - ./src:/src:rw,z',
      '      - ~/cfg:/cfg',
      '      - /abs:/abs:rslave',
      '      - /anon',
      '      - type: bind',
      '        source: ./long',
      '        target: /long',
      '        read_only: true',
      '      - type: tmpfs',
      '        target: /tmp',
      '        tmpfs:',
      '          size: 64m',
      '      - type: volume',
      '        source: data',
      '        target: /nc',
      '        volume:',
      '          nocopy: true',
      'volumes:',
      '  data:',
      '',
    ].join('\n'),
  );
  assert.deepEqual(svc.volumes, [
    { type: 'volume', source: 'data', target: '/data', read_only: true, volume: { nocopy: false } },
    { type: 'bind', source: path.join(dir, 'src'), target: '/src', read_only: false, bind: { create_host_path: true, selinux: 'z' } },
    { type: 'bind', source: path.join(os.homedir(), 'cfg'), target: '/cfg', read_only: false, bind: { create_host_path: true } },
    { type: 'bind', source: '/abs', target: '/abs', read_only: false, bind: { create_host_path: true, propagation: 'rslave' } },
    { type: 'volume', target: '/anon', read_only: false, volume: { nocopy: false } },
    { type: 'bind', source: path.join(dir, 'long'), target: '/long', read_only: true, bind: { create_host_path: false } },
    { type: 'tmpfs', target: '/tmp', read_only: false, tmpfs: { size: 64 * 1024 * 1024 } },
    { type: 'volume', source: 'data', target: '/nc', read_only: false, volume: { nocopy: true } },
  ]);
});

test('environment and labels: list or map, values without = , numbers and booleans as strings', async () => {
  const { svc } = await service('    environment:\n      - A=1\n      - B\n      - C=x=y\n    labels:\n      com.example.n: 3\n      com.example.b: true\n      com.example.e:\n');
  assert.deepEqual(svc.environment, { A: '1', B: null, C: 'x=y' });
  assert.deepEqual(svc.labels, { 'com.example.n': '3', 'com.example.b': 'true', 'com.example.e': '' });
  const m = await service('    environment:\n      A: 1\n      B: false\n      C:\n');
  assert.deepEqual(m.svc.environment, { A: '1', B: 'false', C: null });
});

test('env_file: string, list, long form with required; environment wins; host fills bare names', async () => {
  const dir = await fixture({
    'compose.yaml': [
      'services:',
      '  s:',
      '    image: busybox',
      '    env_file:',
      '      - a.env',
      '      - path: ./missing.env',
      '        required: false',
      '      - b.env',
      '    environment:',
      '      FROM_ENV: yes-env',
      '      HOSTVAR:',
      '',
    ].join('\n'),
    'a.env': 'A=1\nFROM_ENV=file\nSHARED=a\n',
    'b.env': 'SHARED=b\n',
  });
  const p = await load(dir, { env: { HOSTVAR: 'h' } });
  assert.deepEqual(p.services.s!.environment, { A: '1', FROM_ENV: 'yes-env', SHARED: 'b', HOSTVAR: 'h' });
  const bad = await fixture({ 'compose.yaml': 'services:\n  s:\n    image: busybox\n    env_file: nope.env\n' });
  assert.match(await loadError(bad), /env file .*nope\.env not found/);
});

test('depends_on: list and map with condition, restart and required', async () => {
  const dir = await fixture({
    'compose.yaml': [
      'services:',
      '  web:',
      '    image: busybox',
      '    depends_on:',
      '      db:',
      '        condition: service_healthy',
      '        restart: true',
      '      cache:',
      '        condition: service_started',
      '        required: false',
      '  db:',
      '    image: busybox',
      '  worker:',
      '    image: busybox',
      '    depends_on: [db]',
      '',
    ].join('\n'),
  });
  const p = await load(dir);
  assert.deepEqual(p.services.web!.depends_on, { db: { condition: 'service_healthy', restart: true, required: true } });
  assert.deepEqual(p.services.worker!.depends_on, { db: { condition: 'service_started', restart: false, required: true } });
});

test('healthcheck: string test, durations in ns, disable', async () => {
  const { svc } = await service('    healthcheck:\n      test: curl -f http://localhost\n      interval: 1m30s\n      timeout: 10s\n      start_period: 500ms\n      retries: 3\n');
  assert.deepEqual(svc.healthcheck, { test: ['CMD-SHELL', 'curl -f http://localhost'], interval: 90e9, timeout: 10e9, start_period: 500e6, retries: 3 });
  const d = await service('    healthcheck:\n      disable: true\n');
  assert.deepEqual(d.svc.healthcheck, { test: ['NONE'], disable: true });
  const l = await service('    healthcheck:\n      test: ["CMD", "true"]\n');
  assert.deepEqual(l.svc.healthcheck!.test, ['CMD', 'true']);
});

test('command and entrypoint: shell words, lists, empty list clears', async () => {
  const { svc } = await service(`    command: sh -c 'echo "a b"; exit 0' "x y" z\\ w\n    entrypoint: []\n`);
  assert.deepEqual(svc.command, ['sh', '-c', 'echo "a b"; exit 0', 'x y', 'z w']);
  assert.equal(svc.entrypoint, null);
  const l = await service('    command: ["a", 1]\n');
  assert.deepEqual(l.svc.command, ['a', '1']);
});

test('shell splitting', () => {
  assert.deepEqual(shellSplit('  a  b\t"c d" \'e f\' g\\ h "i\\"j" ""'), ['a', 'b', 'c d', 'e f', 'g h', 'i"j', '']);
  assert.throws(() => shellSplit('echo "open'), /unterminated double quote/);
});

test('networks: list and map with aliases and ipv4_address; top-level names', async () => {
  const dir = await fixture({
    'compose.yaml': [
      'name: app',
      'services:',
      '  a:',
      '    image: busybox',
      '    networks: [front]',
      '  b:',
      '    image: busybox',
      '    networks:',
      '      front:',
      '        aliases: [bee]',
      '        ipv4_address: 172.28.0.5',
      '      back:',
      '      outside:',
      'networks:',
      '  front:',
      '    driver: bridge',
      '    ipam:',
      '      config:',
      '        - subnet: 172.28.0.0/16',
      '  back:',
      '    name: custom-back',
      '    internal: true',
      '  outside:',
      '    external: true',
      '    name: shared',
      '',
    ].join('\n'),
  });
  const p = await load(dir);
  assert.deepEqual(p.services.a!.networks, { front: { aliases: [] } });
  assert.deepEqual(p.services.b!.networks, { front: { aliases: ['bee'], ipv4_address: '172.28.0.5' }, back: { aliases: [] }, outside: { aliases: [] } });
  assert.equal(p.networks.front!.name, 'app_front');
  assert.deepEqual(p.networks.front!.ipam, { config: [{ subnet: '172.28.0.0/16' }] });
  assert.equal(p.networks.back!.name, 'custom-back');
  assert.equal(p.networks.back!.internal, true);
  assert.deepEqual(p.networks.outside, { name: 'shared', external: true, driver_opts: {}, internal: false, attachable: false, enable_ipv6: false, labels: {} });
  assert.equal(p.networks.default, undefined);
});

test('top-level volumes: project prefix, name, external, driver_opts', async () => {
  const dir = await fixture({
    'compose.yaml': 'name: app\nservices:\n  s:\n    image: busybox\nvolumes:\n  data:\n  named:\n    name: exact\n  ext:\n    external: true\n  opts:\n    driver: local\n    driver_opts:\n      type: tmpfs\n      o: size=100m\n',
  });
  const p = await load(dir);
  assert.equal(p.volumes.data!.name, 'app_data');
  assert.equal(p.volumes.named!.name, 'exact');
  assert.deepEqual(p.volumes.ext, { name: 'ext', external: true, driver_opts: {}, labels: {} });
  assert.deepEqual(p.volumes.opts!.driver_opts, { type: 'tmpfs', o: 'size=100m' });
});

test('secrets and configs: files relative to the project, targets, environment and content sources', async () => {
  const dir = await fixture({
    'compose.yaml': [
      'services:',
      '  s:',
      '    image: busybox',
      '    secrets:',
      '      - pw',
      '      - source: pw',
      '        target: other',
      '        mode: 0440',
      '    configs:',
      '      - cfg',
      '      - source: inline',
      '        target: /etc/inline.conf',
      'secrets:',
      '  pw:',
      '    file: ./pw.txt',
      'configs:',
      '  cfg:',
      '    environment: CFG',
      '  inline:',
      '    content: hello',
      '',
    ].join('\n'),
  });
  const p = await load(dir, { env: { CFG: 'from-env' } });
  assert.deepEqual(p.services.s!.secrets, [{ source: 'pw', target: '/run/secrets/pw' }, { source: 'pw', target: '/run/secrets/other', mode: 0o440 }]);
  assert.deepEqual(p.services.s!.configs, [{ source: 'cfg', target: '/cfg' }, { source: 'inline', target: '/etc/inline.conf' }]);
  assert.equal(p.secrets.pw!.file, path.join(dir, 'pw.txt'));
  assert.equal(p.configs.cfg!.content, 'from-env');
  assert.equal(p.configs.inline!.content, 'hello');
});

test('ulimits, sysctls, sizes, extra_hosts, tmpfs, dns and the plain keys', async () => {
  const { svc } = await service(
    [
      '    ulimits:',
      '      nproc: 65535',
      '      nofile:',
      '        soft: 20000',
      '        hard: 40000',
      '    sysctls: ["net.core.somaxconn=1024"]',
      '    shm_size: 64m',
      '    mem_limit: 1.5g',
      '    extra_hosts:',
      '      - "somehost:162.242.195.82"',
      '      - "v6=::1"',
      '      - "gw:host-gateway"',
      '    tmpfs: /run',
      '    dns: 8.8.8.8',
      '    dns_search: [example.com]',
      '    user: "1000:1000"',
      '    working_dir: /app',
      '    init: true',
      '    read_only: "true"',
      '    restart: on-failure:3',
      '    stop_grace_period: 1m',
      '    stop_signal: SIGINT',
      '    cap_add: [NET_ADMIN]',
      '    tty: true',
      '    stdin_open: true',
      '    logging:',
      '      driver: json-file',
      '      options:',
      '        max-size: 10m',
      '        max-file: 3',
      '',
    ].join('\n'),
  );
  assert.deepEqual(svc.ulimits, { nproc: { soft: 65535, hard: 65535 }, nofile: { soft: 20000, hard: 40000 } });
  assert.deepEqual(svc.sysctls, { 'net.core.somaxconn': '1024' });
  assert.equal(svc.shm_size, 64 * 1024 * 1024);
  assert.equal(svc.mem_limit, 1.5 * 1024 ** 3);
  assert.deepEqual(svc.extra_hosts, ['somehost:162.242.195.82', 'v6:::1', 'gw:host-gateway']);
  assert.deepEqual(svc.tmpfs, ['/run']);
  assert.deepEqual(svc.dns, ['8.8.8.8']);
  assert.deepEqual(svc.dns_search, ['example.com']);
  assert.equal(svc.user, '1000:1000');
  assert.equal(svc.working_dir, '/app');
  assert.equal(svc.init, true);
  assert.equal(svc.read_only, true);
  assert.equal(svc.restart, 'on-failure:3');
  assert.equal(svc.stop_grace_period, 60e9);
  assert.equal(svc.stop_signal, 'SIGINT');
  assert.deepEqual(svc.cap_add, ['NET_ADMIN']);
  assert.equal(svc.tty, true);
  assert.equal(svc.stdin_open, true);
  assert.deepEqual(svc.logging, { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } });
  const m = await service('    extra_hosts:\n      a: 1.2.3.4\n      b: "::1"\n');
  assert.deepEqual(m.svc.extra_hosts, ['a:1.2.3.4', 'b:::1']);
});

test('deploy: replicas, resources, restart_policy', async () => {
  const { svc } = await service(
    '    deploy:\n      replicas: 2\n      resources:\n        limits:\n          cpus: "0.5"\n          memory: 50M\n          pids: 10\n        reservations:\n          memory: 20m\n      restart_policy:\n        condition: on-failure\n        delay: 5s\n        max_attempts: 3\n',
  );
  assert.deepEqual(svc.deploy, {
    replicas: 2,
    resources: { limits: { cpus: 0.5, memory: 50 * 1024 * 1024, pids: 10 }, reservations: { memory: 20 * 1024 * 1024 } },
    restart_policy: { condition: 'on-failure', delay: 5e9, max_attempts: 3 },
  });
});

test('build: string or map, context absolute, args list or map, dockerfile kept relative', async () => {
  const dir = await fixture({
    'compose.yaml': 'services:\n  s:\n    build:\n      context: ./app\n      dockerfile: Dockerfile.dev\n      args:\n        - VERSION=1\n        - FROMHOST\n      target: dev\n      cache_from: [img:cache]\n      labels: [a=b]\n',
  });
  const p = await load(dir, { env: { FROMHOST: 'h' } });
  assert.deepEqual(p.services.s!.build, {
    context: path.join(dir, 'app'),
    dockerfile: 'Dockerfile.dev',
    args: { VERSION: '1', FROMHOST: 'h' },
    labels: { a: 'b' },
    cache_from: ['img:cache'],
    extra_hosts: [],
    target: 'dev',
  });
  assert.equal(p.services.s!.image, undefined);
});

test('durations and sizes', () => {
  assert.equal(parseDuration('1m30s'), 90e9);
  assert.equal(parseDuration('1h2m3.5s'), 3723.5e9);
  assert.equal(parseDuration('250ms'), 250e6);
  assert.equal(parseDuration(10), 10e9);
  assert.throws(() => parseDuration('10'), /invalid duration "10"/);
  assert.throws(() => parseDuration('5 minutes'), /invalid duration/);
  assert.equal(formatDuration(90e9), '1m30s');
  assert.equal(formatDuration(3600e9), '1h0m0s');
  assert.equal(formatDuration(500e6), '500ms');
  assert.equal(parseSize('64m'), 67108864);
  assert.equal(parseSize('1gb'), 1024 ** 3);
  assert.equal(parseSize('512'), 512);
  assert.equal(parseSize(1024), 1024);
  assert.throws(() => parseSize('lots'), /invalid size "lots"/);
});

test('a bad duration or restart policy names the file, line and key', async () => {
  const dir = await fixture({ 'compose.yaml': 'services:\n  s:\n    image: busybox\n    healthcheck:\n      interval: soon\n' });
  assert.match(await loadError(dir), /^compose\.yaml:5: services\.s\.healthcheck\.interval: invalid duration "soon"/);
  const r = await fixture({ 'compose.yaml': 'services:\n  s:\n    image: busybox\n    restart: sometimes\n' });
  assert.equal(await loadError(r), 'compose.yaml:4: services.s.restart: "sometimes" is not a restart policy: use no, always, unless-stopped or on-failure[:N]');
});

test('env_file format raw takes values as written', async () => {
  const dir = await fixture({
    'compose.yaml': 'services:\n  s:\n    image: busybox\n    env_file:\n      - path: raw.env\n        format: raw\n',
    'raw.env': '# c\nA="quoted" # kept\nB=${NOT_EXPANDED}\n',
  });
  assert.deepEqual((await load(dir)).services.s!.environment, { A: '"quoted" # kept', B: '${NOT_EXPANDED}' });
});
