import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { fixture, load, loadError } from './fixture.js';

test('discovers compose.yaml, names the project after its directory, fills the default network', async () => {
  const dir = await fixture({ 'compose.yaml': 'services:\n  web:\n    image: busybox\n' }, 'My_App.v2');
  const p = await load(dir);
  assert.equal(p.name, 'my_appv2');
  assert.equal(p.working_dir, dir);
  assert.deepEqual(p.config_files, [path.join(dir, 'compose.yaml')]);
  assert.deepEqual(Object.keys(p.services), ['web']);
  assert.equal(p.services.web!.image, 'busybox');
  assert.deepEqual(p.services.web!.networks, { default: { aliases: [] } });
  assert.equal(p.networks.default!.name, 'my_appv2_default');
});

test('searches parent directories and picks the override file beside the one found', async () => {
  const dir = await fixture({
    'docker-compose.yml': 'services:\n  web:\n    image: busybox\n',
    'docker-compose.override.yml': 'services:\n  web:\n    image: alpine\n',
  });
  const deep = path.join(dir, 'a', 'b');
  await mkdir(deep, { recursive: true });
  const p = await load(deep);
  assert.equal(p.working_dir, dir);
  assert.equal(p.services.web!.image, 'alpine');
  assert.equal(p.config_files.length, 2);
});

test('compose.yaml wins over docker-compose.yml in one directory, with a warning', async () => {
  const dir = await fixture({
    'compose.yaml': 'services:\n  a:\n    image: busybox\n',
    'docker-compose.yml': 'services:\n  b:\n    image: busybox\n',
  });
  const p = await load(dir);
  assert.deepEqual(Object.keys(p.services), ['a']);
  assert.match(p.warnings!.join('\n'), /Found multiple config files/);
});

test('no compose file found is one clear line', async () => {
  const dir = await fixture({});
  assert.match(await loadError(dir), /^no configuration file provided: not found/);
});

test('project name: -p, then COMPOSE_PROJECT_NAME, then top-level name, then directory', async () => {
  const dir = await fixture({ 'compose.yaml': 'name: FromFile\nservices:\n  web:\n    image: busybox\n' });
  assert.equal((await load(dir)).name, 'fromfile');
  assert.equal((await load(dir, { env: { COMPOSE_PROJECT_NAME: 'envname' } })).name, 'envname');
  assert.equal((await load(dir, { projectName: 'flag', env: { COMPOSE_PROJECT_NAME: 'envname' } })).name, 'flag');
  assert.equal(
    await loadError(dir, { projectName: 'Bad Name' }),
    'invalid project name "Bad Name": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number',
  );
});

test('-f files resolve against the working directory; the project directory is the first file\'s', async () => {
  const dir = await fixture({ 'sub/one.yml': 'services:\n  web:\n    build: ./app\n' });
  const p = await load(path.dirname(dir), { files: ['proj/sub/one.yml'] });
  assert.equal(p.working_dir, path.join(dir, 'sub'));
  assert.equal(p.name, 'sub');
  assert.equal(p.services.web!.build!.context, path.join(dir, 'sub', 'app'));
  assert.equal(p.services.web!.build!.dockerfile, 'Dockerfile');
});

test('--project-directory moves relative paths and the .env file', async () => {
  const dir = await fixture({
    'compose.yaml': 'services:\n  web:\n    image: "busybox:${TAG}"\n    volumes: ["./data:/data"]\n',
    'other/.env': 'TAG=other\n',
  });
  const p = await load(dir, { files: ['compose.yaml'], projectDirectory: 'other' });
  assert.equal(p.services.web!.image, 'busybox:other');
  assert.equal(p.services.web!.volumes[0]!.source, path.join(dir, 'other', 'data'));
  assert.equal(p.name, 'other');
});

test('a missing -f file names it', async () => {
  const dir = await fixture({});
  assert.equal(await loadError(dir, { files: ['nope.yml'] }), `open ${path.join(dir, 'nope.yml')}: no such file or directory`);
});

test('-f - reads the file from the given stdin text', async () => {
  const dir = await fixture({});
  const p = await load(dir, { files: ['-'], stdin: 'services:\n  web:\n    image: busybox\n' });
  assert.equal(p.services.web!.image, 'busybox');
  assert.equal(p.name, 'proj');
});

test('the version key is accepted and ignored with a warning', async () => {
  const dir = await fixture({ 'compose.yaml': 'version: "3.9"\nservices:\n  web:\n    image: busybox\n' });
  const p = await load(dir);
  assert.equal(p.services.web!.image, 'busybox');
  assert.match(p.warnings!.join('\n'), /`version` is obsolete/);
});

test('x- extension keys are ignored at the top level and inside services', async () => {
  const dir = await fixture({
    'compose.yaml': 'x-common: &c\n  image: busybox\nservices:\n  web:\n    <<: *c\n    x-note: hi\n',
  });
  const p = await load(dir);
  assert.equal(p.services.web!.image, 'busybox');
  assert.equal('x-note' in p.services.web!, false);
});

test('COMPOSE_FILE (from the environment or .env) names the files when -f is absent', async () => {
  const dir = await fixture({
    'base.yml': 'services:\n  web:\n    image: busybox\n',
    'extra.yml': 'services:\n  web:\n    image: alpine\n',
    '.env': 'COMPOSE_FILE=base.yml:extra.yml\n',
  });
  const p = await load(dir);
  assert.deepEqual(p.config_files, [path.join(dir, 'base.yml'), path.join(dir, 'extra.yml')]);
  assert.equal(p.services.web!.image, 'alpine');
  const q = await load(dir, { env: { COMPOSE_FILE: 'base.yml' } });
  assert.equal(q.services.web!.image, 'busybox');
});

test('${COMPOSE_PROJECT_NAME} interpolates to the project name', async () => {
  const dir = await fixture({ 'compose.yaml': 'services:\n  web:\n    image: busybox\n    labels: ["p=${COMPOSE_PROJECT_NAME}"]\n' });
  assert.deepEqual((await load(dir, { projectName: 'given' })).services.web!.labels, { p: 'given' });
});

test('an include cycle is refused, naming the files', async () => {
  const dir = await fixture({
    'compose.yaml': 'include: [a.yaml]\nservices:\n  web:\n    image: x\n',
    'a.yaml': 'include: [b.yaml]\nservices: {}\n',
    'b.yaml': 'include: [a.yaml]\nservices: {}\n',
  });
  assert.equal(await loadError(dir), 'include cycle: compose.yaml -> a.yaml -> b.yaml -> a.yaml');
});

test('errors in a file read from stdin say stdin', async () => {
  const dir = await fixture({});
  assert.equal(
    await loadError(dir, { files: ['-'], stdin: 'services:\n  web:\n    imag: x\n' }),
    'stdin:3: services.web: additional property "imag" is not allowed',
  );
});

test('a YAML error in stdin says stdin', async () => {
  const dir = await fixture({});
  assert.match(await loadError(dir, { files: ['-'], stdin: 'services:\n  web: [\n' }), /^stdin:\d+: yaml: /);
});
