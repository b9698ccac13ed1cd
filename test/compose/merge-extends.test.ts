import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { fixture, load, loadError } from './fixture.js';

test('several -f files merge: mappings by key, lists appended, command replaced, unique resources by key', async () => {
  const dir = await fixture({
    'compose.yaml': [
      'services:',
      '  web:',
      '    image: web:1',
      '    command: ["echo", "foo"]',
      '    environment: [A=1, B=1]',
      '    labels: {l1: a}',
      '    dns: [1.1.1.1]',
      '    ports: ["8000:80", "9000:90"]',
      '    volumes: ["data:/data", "./a:/a"]',
      '    expose: ["3000"]',
      '    healthcheck:',
      '      test: ["CMD", "a"]',
      '      interval: 10s',
      'volumes:',
      '  data:',
      '    labels: {x: "1"}',
      '',
    ].join('\n'),
    'override.yaml': [
      'services:',
      '  web:',
      '    image: web:2',
      '    command: echo bar',
      '    environment: {B: 2, C: 3}',
      '    labels: [l2=b]',
      '    dns: 8.8.8.8',
      '    ports: ["8000:80", "127.0.0.1:9000:90"]',
      '    volumes: ["./b:/a"]',
      '    healthcheck:',
      '      test: ["CMD", "b"]',
      '  extra:',
      '    image: busybox',
      'volumes:',
      '  data:',
      '    labels: {y: "2"}',
      '',
    ].join('\n'),
  });
  const p = await load(dir, { files: ['compose.yaml', 'override.yaml'] });
  const web = p.services.web!;
  assert.equal(web.image, 'web:2');
  assert.deepEqual(web.command, ['echo', 'bar']);
  assert.deepEqual(web.environment, { A: '1', B: '2', C: '3' });
  assert.deepEqual(web.labels, { l1: 'a', l2: 'b' });
  assert.deepEqual(web.dns, ['1.1.1.1', '8.8.8.8']);
  assert.deepEqual(
    web.ports.map((x) => `${x.host_ip}:${x.published}:${x.target}`),
    [':8000:80', ':9000:90', '127.0.0.1:9000:90'],
  );
  assert.deepEqual(web.volumes.map((v) => `${v.source}:${v.target}`), ['data:/data', `${path.join(dir, 'b')}:/a`]);
  assert.deepEqual(web.expose, ['3000']);
  assert.deepEqual(web.healthcheck, { test: ['CMD', 'b'], interval: 10e9 });
  assert.deepEqual(Object.keys(p.services).sort(), ['extra', 'web']);
  assert.deepEqual(p.volumes.data!.labels, { x: '1', y: '2' });
  assert.equal(p.config_files.length, 2);
});

test('override paths resolve against the project directory, not the override file', async () => {
  const dir = await fixture({
    'compose.yaml': 'services:\n  web:\n    image: busybox\n',
    'sub/extra.yaml': 'services:\n  web:\n    volumes: ["./x:/x"]\n    build: ./ctx\n',
  });
  const p = await load(dir, { files: ['compose.yaml', 'sub/extra.yaml'] });
  assert.equal(p.services.web!.volumes[0]!.source, path.join(dir, 'x'));
  assert.equal(p.services.web!.build!.context, path.join(dir, 'ctx'));
});

test('a later build map keeps the earlier dockerfile and merges args', async () => {
  const dir = await fixture({
    'compose.yaml': 'services:\n  web:\n    build:\n      context: app\n      dockerfile: Web.Dockerfile\n      args: {A: "1"}\n',
    'o.yaml': 'services:\n  web:\n    build:\n      args: {B: "2"}\n',
  });
  const p = await load(dir, { files: ['compose.yaml', 'o.yaml'] });
  assert.equal(p.services.web!.build!.dockerfile, 'Web.Dockerfile');
  assert.equal(p.services.web!.build!.context, path.join(dir, 'app'));
  assert.deepEqual(p.services.web!.build!.args, { A: '1', B: '2' });
});

test('!reset removes a key and !override replaces it', async () => {
  const dir = await fixture({
    'compose.yaml': 'services:\n  web:\n    image: busybox\n    ports: ["80:80"]\n    environment: {A: "1", B: "2"}\n',
    'o.yaml': 'services:\n  web:\n    ports: !reset []\n    environment: !override\n      C: "3"\n',
  });
  const p = await load(dir, { files: ['compose.yaml', 'o.yaml'] });
  assert.deepEqual(p.services.web!.ports, []);
  assert.deepEqual(p.services.web!.environment, { C: '3' });
});

test('extends in the same file and from another file; the other file\'s paths are its own', async () => {
  const dir = await fixture({
    'compose.yaml': [
      'services:',
      '  base:',
      '    image: busybox',
      '    environment: {A: "1"}',
      '    command: ["sleep", "1"]',
      '  web:',
      '    extends: base',
      '    environment: {B: "2"}',
      '  api:',
      '    extends:',
      '      file: common/common.yaml',
      '      service: app',
      '    command: run api',
      '',
    ].join('\n'),
    'common/common.yaml': 'services:\n  app:\n    build: ./src\n    volumes: ["./conf:/conf"]\n    labels: [tier=app]\n    extends: root\n  root:\n    image: root:1\n    labels: [root=yes]\n',
  });
  const p = await load(dir);
  assert.deepEqual(p.services.web!.environment, { A: '1', B: '2' });
  assert.deepEqual(p.services.web!.command, ['sleep', '1']);
  assert.equal(p.services.web!.image, 'busybox');
  const api = p.services.api!;
  assert.equal(api.build!.context, path.join(dir, 'common', 'src'));
  assert.equal(api.volumes[0]!.source, path.join(dir, 'common', 'conf'));
  assert.deepEqual(api.labels, { root: 'yes', tier: 'app' });
  assert.equal(api.image, 'root:1');
  assert.deepEqual(api.command, ['run', 'api']);
  assert.equal('extends' in api, false);
});

test('extends errors: unknown service, missing file, cycle', async () => {
  const a = await fixture({ 'compose.yaml': 'services:\n  web:\n    image: x\n    extends: nope\n' });
  assert.equal(await loadError(a), 'compose.yaml:4: services.web.extends: service "nope" not found');
  const b = await fixture({ 'compose.yaml': 'services:\n  web:\n    extends:\n      file: missing.yaml\n      service: x\n' });
  assert.match(await loadError(b), /extends: missing\.yaml not found/);
  const c = await fixture({ 'compose.yaml': 'services:\n  a:\n    extends: b\n  b:\n    extends: a\n' });
  assert.equal(await loadError(c), 'extends cycle: a -> b -> a');
});

test('include: the included project keeps its own directory and .env; conflicts are refused', async () => {
  const dir = await fixture({
    'compose.yaml': 'include:\n  - lib/compose.yaml\n  - path: other/svc.yaml\n    project_directory: other\n    env_file: other/vars.env\nservices:\n  web:\n    image: busybox\n    depends_on: [db]\n',
    'lib/compose.yaml': 'services:\n  db:\n    image: "postgres:${PGTAG}"\n    volumes: ["./init:/init", "dbdata:/var/lib/postgresql"]\nvolumes:\n  dbdata:\n',
    'lib/.env': 'PGTAG=16\n',
    'other/svc.yaml': 'services:\n  cache:\n    image: "redis:${RTAG}"\n',
    'other/vars.env': 'RTAG=7\n',
  });
  const p = await load(dir);
  assert.equal(p.services.db!.image, 'postgres:16');
  assert.equal(p.services.db!.volumes[0]!.source, path.join(dir, 'lib', 'init'));
  assert.equal(p.volumes.dbdata!.name, 'proj_dbdata');
  assert.equal(p.services.cache!.image, 'redis:7');
  const clash = await fixture({
    'compose.yaml': 'include: [lib.yaml]\nservices:\n  db:\n    image: mine\n',
    'lib.yaml': 'services:\n  db:\n    image: theirs\n',
  });
  assert.equal(await loadError(clash), 'compose.yaml:3: services.db conflicts with the service of the same name in the included lib.yaml');
});

test('profiles: services without profiles always on; --profile, COMPOSE_PROFILES, named services', async () => {
  const dir = await fixture({
    'compose.yaml': [
      'services:',
      '  web:',
      '    image: busybox',
      '  debug:',
      '    image: busybox',
      '    profiles: [debug]',
      '    depends_on: [tool]',
      '  tool:',
      '    image: busybox',
      '    profiles: [tools]',
      '',
    ].join('\n'),
  });
  let p = await load(dir);
  assert.deepEqual(Object.keys(p.services), ['web']);
  assert.deepEqual(Object.keys(p.disabled_services).sort(), ['debug', 'tool']);
  p = await load(dir, { profiles: ['debug', 'tools'] });
  assert.deepEqual(Object.keys(p.services).sort(), ['debug', 'tool', 'web']);
  p = await load(dir, { env: { COMPOSE_PROFILES: 'tools' } });
  assert.deepEqual(Object.keys(p.services).sort(), ['tool', 'web']);
  p = await load(dir, { profiles: ['*'] });
  assert.deepEqual(Object.keys(p.services).sort(), ['debug', 'tool', 'web']);
  // Naming a service enables it and what it depends on.
  p = await load(dir, { services: ['debug'] });
  assert.deepEqual(Object.keys(p.services).sort(), ['debug', 'tool', 'web']);
  assert.equal(
    await loadError(dir, { profiles: ['debug'] }),
    'compose.yaml:7: service "tool" was pulled in as a dependency of service "debug" but is not enabled by the active profiles. You may fix this by adding a common profile to "tool" and "debug"',
  );
  assert.equal(await loadError(dir, { services: ['nope'] }), 'no such service: nope');
});

test('extends: file in an override file in another directory is relative to that file', async () => {
  const dir = await fixture({
    'compose.yaml': 'services:\n  web:\n    image: x\n',
    'envs/dev.yaml': 'services:\n  web:\n    extends:\n      file: base.yaml\n      service: b\n',
    'envs/base.yaml': 'services:\n  b:\n    image: x\n    labels: [from=base]\n',
  });
  const p = await load(dir, { files: ['compose.yaml', 'envs/dev.yaml'] });
  assert.deepEqual(p.services.web!.labels, { from: 'base' });
});

test('!reset on one entry of a mapping removes that entry only', async () => {
  const dir = await fixture({
    'compose.yaml': 'services:\n  web:\n    image: busybox\n    environment: {A: "1", B: "2"}\n    labels: {x: "1", y: "2"}\n',
    'o.yaml': 'services:\n  web:\n    environment:\n      A: !reset null\n    labels:\n      y: !reset\n',
  });
  const p = await load(dir, { files: ['compose.yaml', 'o.yaml'] });
  assert.deepEqual(p.services.web!.environment, { B: '2' });
  assert.deepEqual(p.services.web!.labels, { x: '1' });
});
