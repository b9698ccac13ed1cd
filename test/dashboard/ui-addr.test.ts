// --ui-addr: parsed strictly, and a second daemon on a taken dashboard
// address is refused at start, naming the flag, with nothing left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseUiAddr } from '../../src/dashboard/ui-addr.js';
import { startTestDaemon, tugBin } from '../helpers/tug-daemon.js';
import { runCommand } from '../helpers/run-command.js';

test('--ui-addr takes HOST:PORT, [v6]:PORT, "" or off, and names a bad value', () => {
  assert.deepEqual(parseUiAddr('127.0.0.1:9280', 'tug daemon'), { host: '127.0.0.1', port: 9280 });
  assert.deepEqual(parseUiAddr('[::1]:0', 'tug daemon'), { host: '::1', port: 0 });
  assert.equal(parseUiAddr('off', 'tug daemon'), undefined);
  assert.equal(parseUiAddr('', 'tug daemon'), undefined);
  assert.throws(() => parseUiAddr('9280', 'tug daemon'), /tug daemon: --ui-addr "9280" is not HOST:PORT/);
  assert.throws(() => parseUiAddr('localhost:70000', 'tug server'), /tug server: --ui-addr "localhost:70000"/);
});

test('a second daemon on a taken dashboard address is refused, naming --ui-addr', async () => {
  const d = await startTestDaemon();
  const dir = await mkdtemp(join(tmpdir(), 'tugd-taken-'));
  try {
    const taken = new URL((await readFile(join(d.root, 'dashboard', 'url'), 'utf8')).trim()).host;
    const r = await runCommand(process.execPath, [tugBin, 'daemon', '--root', join(dir, 'root'), '--socket', join(dir, 'tug.sock'), '--bridge', 'tugtaken0', '--subnet', '10.249.252.0/24', '--ui-addr', taken]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`tug daemon: the dashboard address ${taken} is already in use .*--ui-addr`));
    await assert.rejects(access(join(dir, 'tug.sock')), 'no socket was made');
  } finally {
    await rm(dir, { recursive: true, force: true });
    await d.stop();
  }
});
