// tug's loader against Debian's docker-compose 1.29.2 (its own Python code
// run on the same files, no daemon needed) where the Compose spec and the v1
// file format agree: project names, network and volume names, ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../helpers/run-command.js';
import { fixture, load } from './fixture.js';

// The script lives in the source tree (tsc copies no .py files into dist).
const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/compose/py/compose_v1_names.py');

interface V1 {
  name: string;
  networks: Record<string, string>;
  volumes: Record<string, string>;
  ports: Record<string, Array<{ target: number; published: string; host_ip: string; protocol: string }>>;
  environment: Record<string, Record<string, string | null>>;
  image: Record<string, string | null>;
}

async function v1(dir: string, projectName = ''): Promise<V1> {
  // /usr/bin/python3 is the interpreter Debian's docker-compose is installed for.
  const r = await runCommand('/usr/bin/python3', [script, dir, projectName], { env: { PATH: process.env.PATH, HOME: process.env.HOME } });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as V1;
}

const COMPOSE = [
  'services:',
  '  web:',
  '    image: busybox',
  '    ports:',
  '      - "8000:80"',
  '      - "127.0.0.1:8001:81/udp"',
  '      - "8002-8003:82-83"',
  '      - "84"',
  '      - "9000-9010:86"',
  '      - 87',
  '      - target: 85',
  '        published: 8005',
  '        protocol: udp',
  '    networks: [front, back, ext]',
  '    volumes: [data:/d, named:/n, ext:/e]',
  '  other:',
  '    image: busybox',
  '    ports: ["${PORT:-7000}:70"]',
  'networks:',
  '  front:',
  '  back:',
  '    name: custom-back',
  '  ext:',
  '    external: true',
  'volumes:',
  '  data:',
  '  named:',
  '    name: exact',
  '  ext:',
  '    external: true',
  '',
].join('\n');

async function compare(dir: string, projectName?: string): Promise<void> {
  const theirs = await v1(dir, projectName);
  const ours = await load(dir, { projectName, env: {} });
  for (const [svc, env] of Object.entries(theirs.environment)) assert.deepEqual(ours.services[svc]!.environment, env, `environment of ${svc}`);
  for (const [svc, image] of Object.entries(theirs.image)) assert.equal(ours.services[svc]!.image, image ?? undefined, `image of ${svc}`);
  assert.equal(ours.name, theirs.name);
  // docker-compose 1.29.2 always lists the default network and makes it only when a service uses it;
  // tug lists it only then.
  if (!Object.values(ours.services).some((svc) => 'default' in svc.networks)) delete theirs.networks.default;
  const netNames = Object.fromEntries(Object.entries(ours.networks).map(([k, n]) => [k, n.name]));
  assert.deepEqual(netNames, theirs.networks);
  const volNames = Object.fromEntries(Object.entries(ours.volumes).map(([k, v]) => [k, v.name]));
  assert.deepEqual(volNames, theirs.volumes);
  // As sets: docker-compose 1.29.2 reorders a service's ports when it merges files.
  const set = (ps: V1['ports'][string]): string[] => ps.map((p) => JSON.stringify([p.host_ip, p.published, p.target, p.protocol])).sort();
  for (const [svc, ports] of Object.entries(theirs.ports)) {
    assert.deepEqual(set(ours.services[svc]!.ports), set(ports), `ports of ${svc}`);
  }
}

test('a directory name with dots and capitals: names and ports as docker-compose 1.29.2 has them', async () => {
  await compare(await fixture({ 'docker-compose.yml': COMPOSE }, 'Web.App-2_x'));
});

test('COMPOSE_PROJECT_NAME and PORT from .env, as docker-compose 1.29.2 reads them', async () => {
  await compare(await fixture({ 'docker-compose.yml': COMPOSE, '.env': 'COMPOSE_PROJECT_NAME=fromdotenv\nPORT=7100\n' }));
});

test('-p names the project as docker-compose 1.29.2 does', async () => {
  await compare(await fixture({ 'docker-compose.yml': COMPOSE }), 'given-name_1');
});

test('a compose.override.yml is merged as docker-compose 1.29.2 merges it (ports appended, networks named)', async () => {
  await compare(
    await fixture({
      'docker-compose.yml': COMPOSE,
      'docker-compose.override.yml': 'services:\n  other:\n    ports: ["7001:71"]\n    networks: [extra]\nnetworks:\n  extra:\n',
    }),
  );
});

test('interpolation, .env, env_file and environment resolve as docker-compose 1.29.2 resolves them', async () => {
  await compare(
    await fixture({
      'docker-compose.yml': [
        'services:',
        '  web:',
        '    image: "busybox:${TAG:-latest}"',
        '    env_file: [common.env, web.env]',
        '    environment:',
        '      - FROM_DOTENV=${DOTENV_ONLY}',
        '      - DEFAULTED=${NOPE-dflt}',
        '      - ESCAPED=$$HOME',
        '      - OVERRIDE=environment-wins',
        '  db:',
        '    image: "postgres:${PGTAG}"',
        '    environment:',
        '      PASSWORD: "${PW:?need PW}"',
        '      EMPTY: ""',
        '',
      ].join('\n'),
      '.env': 'TAG=1.36\nDOTENV_ONLY=dot\nPGTAG=16\nPW=secret\n',
      'common.env': '# shared\nOVERRIDE=common\nSHARED=common\nQUOTED="a b"\n',
      'web.env': 'SHARED=web\n',
    }),
  );
});
