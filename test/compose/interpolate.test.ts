import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interpolateString } from '../../src/compose/model/interpolate.js';
import { parseDotenv } from '../../src/compose/model/dotenv.js';
import { fixture, load, loadError } from './fixture.js';

const vars: Record<string, string> = { A: 'a', EMPTY: '', N: '5' };
const sub = (s: string, warned: string[] = []): string => interpolateString(s, (n) => vars[n], (n) => warned.push(n));

test('plain and braced references, $$ escape', () => {
  assert.equal(sub('$A-${A}x'), 'a-ax');
  assert.equal(sub('cost $$5 ${N}'), 'cost $5 5');
  assert.equal(sub('$$A'), '$A');
  assert.equal(sub('no vars'), 'no vars');
});

test('defaults: :- takes over for empty, - only for unset', () => {
  assert.equal(sub('${EMPTY:-d}'), 'd');
  assert.equal(sub('${EMPTY-d}'), '');
  assert.equal(sub('${UNSET-d}'), 'd');
  assert.equal(sub('${A:-d}'), 'a');
});

test('nested defaults and alternates', () => {
  assert.equal(sub('${UNSET:-${ALSO:-${A}}}'), 'a');
  assert.equal(sub('${UNSET:-x${N}y}'), 'x5y');
  assert.equal(sub('${A:+alt}|${EMPTY:+alt}|${EMPTY+alt}|${UNSET+alt}'), 'alt||alt|');
});

test('required variables fail with their message', () => {
  assert.throws(() => sub('${UNSET:?set UNSET please}'), { message: 'required variable UNSET is missing a value: set UNSET please' });
  assert.throws(() => sub('${EMPTY:?}'), { message: 'required variable EMPTY is missing a value' });
  assert.equal(sub('${EMPTY?boom}'), '');
  assert.throws(() => sub('${UNSET?boom}'), { message: 'required variable UNSET is missing a value: boom' });
});

test('unset without default is empty and warned about', () => {
  const warned: string[] = [];
  assert.equal(sub('x${NOPE}y$NOPE2', warned), 'xy');
  assert.deepEqual(warned, ['NOPE', 'NOPE2']);
});

test('malformed references are refused', () => {
  assert.throws(() => sub('${A'), /never closed/);
  assert.throws(() => sub('${1A}'), /not a variable reference/);
  assert.throws(() => sub('cost $ 5'), /write "\$\$" for a literal "\$"/);
});

test('dotenv: comments, export, quotes, escapes, interpolation, multi-line', () => {
  const text = [
    '# comment',
    'export A=1',
    'B = two words # trailing comment',
    "C='literal ${A} \\n'",
    'D="line\\nnext ${A}"',
    'E=${A}-${UNKNOWN:-dflt}',
    'F="multi',
    'line"',
    'G=',
    'FROMENV',
  ].join('\n');
  const env = parseDotenv(text, '.env', (n) => (n === 'FROMENV' ? 'host' : undefined));
  assert.deepEqual(env, { A: '1', B: 'two words', C: 'literal ${A} \\n', D: 'line\nnext 1', E: '1-dflt', F: 'multi\nline', G: '', FROMENV: 'host' });
});

test('dotenv: a bad name names the file and line', () => {
  assert.throws(() => parseDotenv('A=1\nB C=2\n', 'x.env'), { message: 'x.env:2: unexpected character in variable name "B C"' });
});

test('the process environment wins over .env; .env fills the rest', async () => {
  const dir = await fixture({
    '.env': 'TAG=fromdotenv\nPORT=8000\n',
    'compose.yaml': 'services:\n  web:\n    image: "busybox:${TAG}"\n    ports: ["${PORT}:80"]\n',
  });
  const p = await load(dir, { env: { TAG: 'fromshell' } });
  assert.equal(p.services.web!.image, 'busybox:fromshell');
  assert.equal(p.services.web!.ports[0]!.published, '8000');
  assert.equal(p.environment.PORT, '8000');
  assert.equal(p.environment.TAG, 'fromshell');
});

test('--env-file replaces .env; several are read in order', async () => {
  const dir = await fixture({
    '.env': 'TAG=dotenv\n',
    'a.env': 'TAG=a\nX=a\n',
    'b.env': 'TAG=b\n',
    'compose.yaml': 'services:\n  web:\n    image: "busybox:${TAG}-${X}"\n',
  });
  const p = await load(dir, { envFiles: ['a.env', 'b.env'] });
  assert.equal(p.services.web!.image, 'busybox:b-a');
  assert.match(await loadError(dir, { envFiles: ['missing.env'] }), /env file .*missing\.env not found/);
});

test('a missing required variable prints its message with file, line and path', async () => {
  const dir = await fixture({
    'compose.yaml': 'services:\n  db:\n    image: postgres\n    environment:\n      POSTGRES_PASSWORD: ${DB_PASS:?set DB_PASS in .env}\n',
  });
  assert.equal(
    await loadError(dir),
    'compose.yaml:5: services.db.environment.POSTGRES_PASSWORD: required variable DB_PASS is missing a value: set DB_PASS in .env',
  );
});

test('an unset variable warns once and becomes empty', async () => {
  const dir = await fixture({ 'compose.yaml': 'services:\n  web:\n    image: "busybox${SUFFIX}"\n    labels: ["a=${SUFFIX}"]\n' });
  const p = await load(dir);
  assert.equal(p.services.web!.image, 'busybox');
  assert.deepEqual(p.warnings, ['The "SUFFIX" variable is not set. Defaulting to a blank string.']);
});

test('keys are not interpolated; $$ survives to the container as $', async () => {
  const dir = await fixture({ 'compose.yaml': 'services:\n  web:\n    image: busybox\n    command: sh -c "echo $$HOME"\n' });
  const p = await load(dir);
  assert.deepEqual(p.services.web!.command, ['sh', '-c', 'echo $HOME']);
});
