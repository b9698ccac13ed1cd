// The runtime's pure parts without a daemon: the config hash (stable, blind
// to what does not change a container), the create body a service maps to,
// container numbers read from either compose's names, and the dependency
// walk (dependencies first, dependents first in reverse, failures stop
// what waits on them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ComposeProject, ServiceConfig } from '../../src/compose/model/project-types.js';
import { containerBody } from '../../src/compose/project/container-body.js';
import { inDependencyOrder } from '../../src/compose/project/graph.js';
import { configHash, containerLabels, numberOf } from '../../src/compose/project/labels.js';

function service(name: string, extra: Partial<ServiceConfig> = {}): ServiceConfig {
  return {
    name, image: 'busybox', environment: {}, ports: [], expose: [], volumes: [], networks: {}, depends_on: {}, labels: {}, tmpfs: [], cap_add: [], cap_drop: [],
    security_opt: [], ulimits: {}, sysctls: {}, extra_hosts: [], dns: [], dns_search: [], dns_opt: [], secrets: [], configs: [], links: [], external_links: [], ...extra,
  };
}

function project(services: ServiceConfig[]): ComposeProject {
  return {
    name: 'demo', working_dir: '/srv/demo', config_files: ['/srv/demo/compose.yaml'], services: Object.fromEntries(services.map((s) => [s.name, s])), disabled_services: {},
    networks: {}, volumes: { data: { name: 'demo_data', external: false, driver_opts: {}, labels: {} } }, secrets: { pw: { name: 'pw', file: '/srv/demo/pw.txt', external: false } },
    configs: { motd: { name: 'motd', content: 'hi', external: false } }, environment: { FROM_HOST: 'h' },
  };
}

test('config hash: same config, same hash; replicas, build and depends_on do not count', () => {
  const a = service('web', { environment: { A: '1' } });
  assert.equal(configHash(a), configHash(service('web', { environment: { A: '1' } })));
  assert.notEqual(configHash(a), configHash(service('web', { environment: { A: '2' } })));
  assert.equal(configHash(a), configHash({ ...a, deploy: { replicas: 5 }, scale: 3, depends_on: { db: { condition: 'service_started', restart: false, required: true } } }));
  assert.notEqual(configHash(a), configHash({ ...a, deploy: { resources: { limits: { memory: 1 } } } }));
  // Key order in the file does not matter.
  assert.equal(configHash(service('x', { labels: { a: '1', b: '2' } })), configHash(service('x', { labels: { b: '2', a: '1' } })));
});

test('container numbers from the label, else from v1 or v2 names', () => {
  assert.equal(numberOf({ Labels: { 'com.docker.compose.container-number': '3' }, Names: ['/p-web-9'] }), 3);
  assert.equal(numberOf({ Labels: {}, Names: ['/p_web_2'] }), 2);
  assert.equal(numberOf({ Labels: {}, Names: ['/p-web-4'] }), 4);
  const labels = containerLabels(project([service('web')]), service('web'), 2, 'h', false);
  assert.equal(labels['com.docker.compose.oneoff'], 'False');
  assert.equal(labels['com.docker.compose.container-number'], '2');
  assert.equal(labels['com.docker.compose.project.config_files'], '/srv/demo/compose.yaml');
});

test('the create body a service maps to', () => {
  const svc = service('web', {
    command: ['serve'],
    entrypoint: null,
    environment: { A: '1', FROM_HOST: null, UNSET: null },
    ports: [{ target: 80, published: '8080', host_ip: '127.0.0.1', protocol: 'tcp', mode: 'ingress' }],
    expose: ['9000'],
    volumes: [
      { type: 'volume', source: 'data', target: '/data', read_only: false },
      { type: 'bind', source: '/srv/demo/conf', target: '/conf', read_only: true, bind: { create_host_path: true } },
      { type: 'tmpfs', target: '/run/t', read_only: false, tmpfs: { size: 1024 } },
      { type: 'volume', target: '/anon', read_only: false },
    ],
    restart: 'unless-stopped',
    healthcheck: { test: ['CMD', 'true'], interval: 2e9, retries: 3 },
    deploy: { resources: { limits: { cpus: 1.5, memory: 1 << 20 } } },
    secrets: [{ source: 'pw', target: '/run/secrets/pw' }],
    configs: [{ source: 'motd', target: '/etc/motd', mode: 0o440 }],
    pid: 'service:db',
    stop_grace_period: 2.5e9,
    ulimits: { nofile: { soft: 10, hard: 20 } },
  });
  const { body, files } = containerBody(svc, {
    project: project([svc]),
    image: 'busybox',
    labels: { l: 'v' },
    containerOf: (s) => `id-of-${s}`,
    inheritedVolumes: [{ name: 'oldanon', target: '/anon' }],
  });
  assert.deepEqual(body.Cmd, ['serve']);
  assert.deepEqual(body.Entrypoint, [], 'entrypoint: [] clears the image\'s');
  assert.deepEqual(body.Env, ['A=1', 'FROM_HOST=h'], 'null takes the host value, or nothing');
  assert.deepEqual(body.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] });
  assert.deepEqual(body.ExposedPorts, { '9000/tcp': {}, '80/tcp': {} });
  assert.deepEqual(body.HostConfig.Binds, ['/srv/demo/conf:/conf:ro']);
  assert.deepEqual(body.HostConfig.Mounts, [
    { Type: 'volume', Source: 'demo_data', Target: '/data', ReadOnly: false },
    { Type: 'tmpfs', Target: '/run/t', ReadOnly: false, TmpfsOptions: { SizeBytes: 1024 } },
    { Type: 'volume', Source: 'oldanon', Target: '/anon', ReadOnly: false },
    { Type: 'bind', Source: '/srv/demo/pw.txt', Target: '/run/secrets/pw', ReadOnly: true },
  ]);
  assert.deepEqual(files, [{ target: '/etc/motd', content: 'hi', mode: 0o440, uid: undefined, gid: undefined }]);
  assert.deepEqual(body.HostConfig.RestartPolicy, { Name: 'unless-stopped', MaximumRetryCount: 0 });
  assert.deepEqual(body.Healthcheck, { Test: ['CMD', 'true'], Interval: 2e9, Retries: 3 });
  assert.equal(body.HostConfig.NanoCpus, 1.5e9);
  assert.equal(body.HostConfig.Memory, 1 << 20);
  assert.equal(body.HostConfig.PidMode, 'container:id-of-db');
  assert.equal(body.StopTimeout, 3, 'rounded up to whole seconds');
  assert.deepEqual(body.HostConfig.Ulimits, [{ Name: 'nofile', Soft: 10, Hard: 20 }]);
  assert.deepEqual(body.Labels, { l: 'v' });
});

test('dependency walk: dependencies first, dependents first in reverse, a failure stops what waits on it', async () => {
  const p = project([
    service('db'),
    service('api', { depends_on: { db: { condition: 'service_started', restart: false, required: true } } }),
    service('web', { depends_on: { api: { condition: 'service_started', restart: false, required: true } } }),
    service('solo'),
  ]);
  const names = Object.keys(p.services);
  const seen: string[] = [];
  await inDependencyOrder(p.services, names, 'up', async (n) => {
    seen.push(n);
  });
  assert.ok(seen.indexOf('db') < seen.indexOf('api') && seen.indexOf('api') < seen.indexOf('web'), seen.join());
  const down: string[] = [];
  await inDependencyOrder(p.services, names, 'down', async (n) => {
    down.push(n);
  });
  assert.ok(down.indexOf('web') < down.indexOf('api') && down.indexOf('api') < down.indexOf('db'), down.join());

  const ran: string[] = [];
  await assert.rejects(
    inDependencyOrder(p.services, names, 'up', async (n) => {
      if (n === 'api') throw new Error('api broke');
      ran.push(n);
    }),
    /api broke/,
  );
  assert.ok(ran.includes('db') && ran.includes('solo'));
  assert.ok(!ran.includes('web'), 'web waits on api, which failed');

  const cyclic = project([
    service('a', { depends_on: { b: { condition: 'service_started', restart: false, required: true } } }),
    service('b', { depends_on: { a: { condition: 'service_started', restart: false, required: true } } }),
  ]);
  await assert.rejects(inDependencyOrder(cyclic.services, ['a', 'b'], 'up', async () => {}), /dependency cycle detected: a -> b -> a/);
});
