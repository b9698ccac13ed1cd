import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, load, loadError } from './fixture.js';
import { dependencyOrder, stopOrder } from '../../src/compose/model/dependency-order.js';

async function err(yaml: string, files: Record<string, string> = {}): Promise<string> {
  return loadError(await fixture({ 'compose.yaml': yaml, ...files }));
}

test('an unknown key names the key, the file and its line', async () => {
  const yaml = ['services:', '  db:', '    image: redis', '  web:', '    build: .', '    ports: ["80"]', '    imagee: busybox', ''].join('\n');
  assert.equal(await err(yaml), 'compose.yaml:7: services.web: additional property "imagee" is not allowed');
  assert.equal(await err('servics:\n  web:\n    image: x\n'), 'compose.yaml:1: top level: additional property "servics" is not allowed');
  assert.equal(
    await err('services:\n  web:\n    image: x\n    healthcheck:\n      tset: [CMD, x]\n'),
    'compose.yaml:5: services.web.healthcheck: additional property "tset" is not allowed',
  );
  assert.equal(
    await err('services:\n  web:\n    image: x\nnetworks:\n  n:\n    drivr: bridge\n'),
    'compose.yaml:6: networks.n: additional property "drivr" is not allowed',
  );
});

test('an unknown key in a second -f file names that file', async () => {
  const dir = await fixture({ 'compose.yaml': 'services:\n  web:\n    image: x\n', 'dev.yaml': 'services:\n  web:\n\n    portz: []\n' });
  assert.equal(await loadError(dir, { files: ['compose.yaml', 'dev.yaml'] }), 'dev.yaml:4: services.web: additional property "portz" is not allowed');
});

test('a wrong type names the path and line', async () => {
  assert.equal(await err('services:\n  web:\n    image: x\n    ports: "80:80"\n'), 'compose.yaml:4: services.web.ports must be a list');
  assert.equal(await err('services:\n  web:\n    image: [a]\n'), 'compose.yaml:3: services.web.image must be a string');
  assert.equal(await err('services:\n  web:\n    image: x\n    privileged: maybe\n'), 'compose.yaml:4: services.web.privileged must be a boolean');
  assert.equal(await err('services:\n  web:\n    image: x\n    environment: 3\n'), 'compose.yaml:4: services.web.environment must be a list or mapping');
  assert.equal(
    await err('services:\n  web:\n    image: x\n    deploy:\n      replicas: two\n'),
    'compose.yaml:5: services.web.deploy.replicas must be an integer',
  );
  assert.equal(await err('services:\n  - web\n'), 'compose.yaml:1: services must be a mapping');
});

test('YAML syntax errors name the line', async () => {
  assert.match(await err('services:\n  web:\n    image: x\n   bad: [\n'), /^compose\.yaml:\d+: yaml: /);
  assert.match(await err('services:\n  web:\n    image: x\n    image: y\n'), /^compose\.yaml:4: yaml: Map keys must be unique/);
});

test('keys tug does not implement are refused, not ignored', async () => {
  assert.equal(await err('services:\n  web:\n    image: x\n    gpus: all\n'), 'compose.yaml:4: services.web.gpus: not supported by tug compose');
  assert.equal(
    await err('services:\n  web:\n    image: x\n    deploy:\n      placement:\n        constraints: []\n'),
    'compose.yaml:5: services.web.deploy.placement: not supported by tug compose (swarm only)',
  );
});

test('depends_on an unknown service', async () => {
  assert.equal(
    await err('services:\n  web:\n    image: x\n    depends_on:\n      - db\n'),
    'compose.yaml:5: service "web" depends on undefined service "db"',
  );
});

test('a depends_on cycle names the cycle', async () => {
  const yaml = ['services:', '  web:', '    image: x', '    depends_on: [api]', '  api:', '    image: x', '    depends_on: [web]', ''].join('\n');
  assert.equal(await err(yaml), 'dependency cycle detected: api -> web -> api');
  const three = ['services:', '  a:', '    image: x', '    depends_on: [b]', '  b:', '    image: x', '    depends_on: [c]', '  c:', '    image: x', '    network_mode: service:a', ''].join('\n');
  assert.equal(await err(three), 'dependency cycle detected: a -> b -> c -> a');
});

test('a service with neither image nor build', async () => {
  assert.equal(await err('services:\n  web:\n    command: ["true"]\n'), 'compose.yaml:2: service "web" has neither an image nor a build context specified');
});

test('references to undeclared networks, volumes, secrets and configs', async () => {
  assert.equal(await err('services:\n  web:\n    image: x\n    networks: [front]\n'), 'compose.yaml:4: service "web" refers to undefined network front');
  assert.equal(
    await err('services:\n  web:\n    image: x\n    volumes:\n      - ./ok:/ok\n      - data:/data\n'),
    'compose.yaml:6: service "web" refers to undefined volume data',
  );
  assert.equal(await err('services:\n  web:\n    image: x\n    secrets: [pw]\n'), 'compose.yaml:4: service "web" refers to undefined secret pw');
  assert.equal(await err('services:\n  web:\n    image: x\n    configs: [c]\n'), 'compose.yaml:4: service "web" refers to undefined config c');
});

test('network_mode and networks together are refused', async () => {
  assert.equal(
    await err('services:\n  web:\n    image: x\n    network_mode: host\n    networks: [default]\n'),
    'compose.yaml:4: service "web" declares mutually exclusive network_mode and networks',
  );
});

test('a secret needs exactly one source', async () => {
  assert.equal(
    await err('services:\n  web:\n    image: x\nsecrets:\n  s:\n    name: x\n'),
    'compose.yaml:5: secrets.s: a secret needs exactly one of file, environment or external',
  );
});

test('dependencyOrder starts dependencies first; stopOrder is the reverse; implicit links count', async () => {
  const dir = await fixture({
    'compose.yaml': [
      'services:',
      '  web:',
      '    image: x',
      '    depends_on: [api, cache]',
      '  api:',
      '    image: x',
      '    links: ["db:database"]',
      '  db:',
      '    image: x',
      '  cache:',
      '    image: x',
      '    volumes_from: [db]',
      '  solo:',
      '    image: x',
      '  side:',
      '    image: x',
      '    ipc: service:solo',
      '',
    ].join('\n'),
  });
  const p = await load(dir);
  const order = dependencyOrder(p);
  assert.deepEqual(order, ['db', 'api', 'cache', 'solo', 'side', 'web']);
  assert.deepEqual(stopOrder(p), [...order].reverse());
  assert.deepEqual(p.services.api!.depends_on, { db: { condition: 'service_started', restart: false, required: true } });
});

test('depends_on with required: false on a missing service is dropped', async () => {
  const dir = await fixture({ 'compose.yaml': 'services:\n  web:\n    image: x\n    depends_on:\n      db:\n        required: false\n' });
  assert.deepEqual((await load(dir)).services.web!.depends_on, {});
});

test('after a merge, a reference error points at the file that wrote it', async () => {
  const dir = await fixture({
    'compose.yaml': 'services:\n  web:\n    image: x\n',
    'more.yaml': '# more\nservices:\n  web:\n    networks:\n      - back\n',
  });
  assert.equal(await loadError(dir, { files: ['compose.yaml', 'more.yaml'] }), 'more.yaml:5: service "web" refers to undefined network back');
});

test('a service name that cannot name a container is refused', async () => {
  assert.equal(
    await err('services:\n  my app:\n    image: x\n'),
    'compose.yaml:2: services: invalid service name "my app": use letters, digits, "_", "." and "-", starting with a letter or digit',
  );
});

test('scale and deploy.replicas that differ are refused', async () => {
  assert.equal(
    await err('services:\n  web:\n    image: x\n    scale: 2\n    deploy:\n      replicas: 3\n'),
    'compose.yaml:4: services.web: scale (2) and deploy.replicas (3) differ; set one',
  );
});

test('empty sections and empty entries are accepted where compose accepts them', async () => {
  const dir = await fixture({ 'compose.yaml': 'services:\n  web:\n    image: x\n    command:\n    networks:\n      front:\nnetworks:\n  front:\nvolumes:\nsecrets:\n' });
  const p = await load(dir);
  assert.equal(p.services.web!.command, undefined);
  assert.deepEqual(p.services.web!.networks, { front: { aliases: [] } });
  assert.equal(await err('services:\n  web:\n    image: x\n    command: {a: 1}\n'), 'compose.yaml:4: services.web.command must be a string or list');
});

test('develop (compose watch) is dropped with a warning, not refused', async () => {
  const dir = await fixture({ 'compose.yaml': 'services:\n  web:\n    image: x\n    develop:\n      watch:\n        - action: sync\n          path: .\n          target: /app\n' });
  const p = await load(dir);
  assert.equal('develop' in p.services.web!, false);
  assert.deepEqual(p.warnings, ['compose.yaml: services.web.develop is ignored: tug compose has no watch mode']);
});
