import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flags, parse, parseArgs, UsageError } from '../../src/cli/args.js';

const spec = flags('bool:detach,d', 'bool:interactive,i', 'bool:tty,t', 'string:name', 'list:env,e', 'list:publish,p', 'string:workdir,w');

test('bundled short flags, attached and separate values', () => {
  const p = parseArgs(['-dit', '-eA=1', '-e', 'B=2', '-p8080:80', '--name=x', '--publish', '9090:90', 'img', 'cmd'], spec);
  assert.equal(p.bools.get('detach'), true);
  assert.equal(p.bools.get('interactive'), true);
  assert.equal(p.bools.get('tty'), true);
  assert.deepEqual(p.lists.get('env'), ['A=1', 'B=2']);
  assert.deepEqual(p.lists.get('publish'), ['8080:80', '9090:90']);
  assert.equal(p.strings.get('name'), 'x');
  assert.deepEqual(p.args, ['img', 'cmd']);
});

test('a bundle ending in a value flag takes the next word', () => {
  const p = parseArgs(['-dw', '/srv', 'img'], spec);
  assert.equal(p.bools.get('detach'), true);
  assert.equal(p.strings.get('workdir'), '/srv');
  assert.deepEqual(p.args, ['img']);
});

test('non-interspersed parsing leaves the container command alone', () => {
  const o = parse(['-d', 'img', 'ls', '-l', '--name', 'y'], spec, { interspersed: false });
  assert.equal(o.bool('detach'), true);
  assert.equal(o.str('name'), undefined);
  assert.deepEqual(o.args, ['img', 'ls', '-l', '--name', 'y']);
});

test('interspersed parsing and -- end of flags', () => {
  const o = parse(['a', '-d', 'b', '--', '-t', 'c'], spec);
  assert.equal(o.bool('detach'), true);
  assert.equal(o.bool('tty'), false);
  assert.deepEqual(o.args, ['a', 'b', '-t', 'c']);
});

test('bool flags accept =false', () => {
  const o = parse(['--detach=false', '-t=true'], spec);
  assert.equal(o.has('detach'), true);
  assert.equal(o.bool('detach'), false);
  assert.equal(o.bool('tty'), true);
});

test('unknown and incomplete flags are usage errors naming the flag', () => {
  assert.throws(() => parseArgs(['--bogus'], spec), (e: unknown) => e instanceof UsageError && /unknown flag: --bogus/.test(e.message));
  assert.throws(() => parseArgs(['-x'], spec), /unknown shorthand flag: 'x'/);
  assert.throws(() => parseArgs(['--name'], spec), /flag needs an argument: --name/);
  assert.throws(() => parse(['--name', 'x'], flags('string:name,n', 'string:last')).int('last') ?? parse(['--last', 'abc'], flags('string:last')).int('last'), /invalid argument "abc"/);
});

test('detach keys parse in docker syntax', async () => {
  const { parseDetachKeys } = await import('../../src/cli/stdio.js');
  assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [0x10, 0x11]);
  assert.deepEqual(parseDetachKeys('ctrl-a,x'), [1, 0x78]);
  assert.deepEqual(parseDetachKeys('ctrl-[,ctrl-_'), [27, 31]);
  assert.throws(() => parseDetachKeys('ctrl-1'), /Invalid detach keys \(ctrl-1\)/);
  assert.throws(() => parseDetachKeys('ab'), /Invalid detach keys/);
});
