// `tug registry serve|gc` through runRegistryCommand in a child process: flags,
// the listening line, SIGTERM shutdown releasing the write lock, gc output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTool } from '../../src/util/exec-file.js';
import { tempDir, http, pushBlob } from './helpers.js';
import { parseAddr, serveOptions } from '../../src/registry/main.js';

const mainJs = fileURLToPath(new URL('../../src/registry/main.js', import.meta.url));
const script = `import(${JSON.stringify(mainJs)}).then(m => m.runRegistryCommand(process.argv.slice(1))).catch(e => { console.error(e.message); process.exit(2); })`;

test('flags parse into server options; bad flags are named', () => {
  assert.deepEqual(parseAddr('127.0.0.1:5000'), { host: '127.0.0.1', port: 5000 });
  assert.deepEqual(parseAddr('[::1]:0'), { host: '::1', port: 0 });
  assert.throws(() => parseAddr('nope'), /--addr "nope"/);
  const o = serveOptions(['--addr', '127.0.0.1:0', '--root', '/r', '--read-only', '--upload-ttl', '60']);
  assert.equal(o.readOnly, true);
  assert.equal(o.uploadTtlMs, 60_000);
  assert.throws(() => serveOptions(['--root', '/r', '--bogus']), /--bogus/);
  assert.throws(() => serveOptions(['--addr', '127.0.0.1:0']), /--root/);
  assert.throws(() => serveOptions(['--root', '/r', '--token-issuer-for-htpasswd']), /--token-cert/);
});

test('serve listens, answers, and on SIGTERM exits releasing the lock; gc --dry-run prints a summary', async () => {
  const root = await tempDir('cli');
  const child = spawn(process.execPath, ['-e', script, 'serve', '--addr', '127.0.0.1:0', '--root', root], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (b: Buffer) => {
        err += b.toString();
        const m = /listening on (\S+)/.exec(err);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    assert.equal((await http('GET', `${url}/v2/`)).status, 200);
    await pushBlob(url, 'cli/orphan', Buffer.from('an orphan blob'));
    await access(join(root, 'write.lock'));
    const busy = await runTool(process.execPath, ['-e', script, 'gc', '--root', root], { allowFailure: true });
    assert.equal(busy.code, 2);
    assert.match(busy.stderr, /locked for writing by pid/);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    await assert.rejects(access(join(root, 'write.lock')));
    const gc = await runTool(process.execPath, ['-e', script, 'gc', '--root', root, '--dry-run']);
    assert.match(gc.stdout, /^would delete blob sha256:[0-9a-f]{64}$/m);
    assert.match(gc.stdout, /0 blobs marked, 1 blobs eligible for deletion/);
    const none = await runTool(process.execPath, ['-e', script, 'gc', '--root', join(root, 'nothing-here')], { allowFailure: true });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /holds no registry/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
  }
});
