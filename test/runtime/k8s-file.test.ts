// readLogs over conmon's k8s-file format: joining partial records, tail from
// the end, since/until, and follow that ends when the container exits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, appendFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLogs, type LogEntry } from '../../src/runtime/logs/k8s-file.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { makeBundle, randomId } from './bundle-helper.js';

async function all(it: AsyncIterable<LogEntry>): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}
const show = (es: LogEntry[]): string[] => es.map((e) => `${e.stream}:${e.data.toString()}`);

const SAMPLE = [
  '2026-01-01T10:00:00.100000000+00:00 stdout F line one',
  '2026-01-01T10:00:01.000000000+00:00 stderr F err one',
  '2026-01-01T10:00:02.000000000+00:00 stdout P par',
  '2026-01-01T10:00:02.500000000+00:00 stdout P t',
  '2026-01-01T10:00:03.000000000+00:00 stdout F ial',
  '2026-01-01T10:00:04.000000000+00:00 stdout F ',
  '2026-01-01T10:00:05.000000000+00:00 stderr F last',
  '',
].join('\n');

test('readLogs: whole file, partial records joined, timestamps parsed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tug-logs-'));
  try {
    const p = join(dir, 'ctr.log');
    await writeFile(p, SAMPLE);
    const es = await all(readLogs(p, { follow: false }));
    assert.deepEqual(show(es), ['stdout:line one\n', 'stderr:err one\n', 'stdout:partial\n', 'stdout:\n', 'stderr:last\n']);
    assert.equal(es[0]!.time.toISOString(), '2026-01-01T10:00:00.100Z');
    assert.equal(es[2]!.time.toISOString(), '2026-01-01T10:00:02.000Z', 'a joined line keeps its first time');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('readLogs: tail counts whole lines from the end; since and until filter', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tug-logs-'));
  try {
    const p = join(dir, 'ctr.log');
    await writeFile(p, SAMPLE);
    assert.deepEqual(show(await all(readLogs(p, { follow: false, tail: 3 }))), ['stdout:partial\n', 'stdout:\n', 'stderr:last\n']);
    assert.deepEqual(show(await all(readLogs(p, { follow: false, tail: 1 }))), ['stderr:last\n']);
    assert.deepEqual(await all(readLogs(p, { follow: false, tail: 0 })), []);
    assert.equal((await all(readLogs(p, { follow: false, tail: 100 }))).length, 5);
    const since = new Date('2026-01-01T10:00:01.000Z');
    const until = new Date('2026-01-01T10:00:04.000Z');
    assert.deepEqual(show(await all(readLogs(p, { follow: false, since, until }))), ['stderr:err one\n', 'stdout:partial\n', 'stdout:\n']);
    assert.deepEqual(await all(readLogs(join(dir, 'missing.log'), { follow: false })), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('readLogs: tail over a log larger than one read chunk', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tug-logs-'));
  try {
    const p = join(dir, 'big.log');
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) lines.push(`2026-01-01T10:00:00.000000000+00:00 stdout F line ${i} ${'y'.repeat(40)}`);
    await writeFile(p, lines.join('\n') + '\n');
    const es = await all(readLogs(p, { follow: false, tail: 2500 }));
    assert.equal(es.length, 2500);
    assert.ok(es[0]!.data.toString().startsWith('line 2500 '));
    assert.ok(es[2499]!.data.toString().startsWith('line 4999 '));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('readLogs: follow delivers appended lines and ends once not running', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tug-logs-'));
  try {
    const p = join(dir, 'ctr.log');
    await writeFile(p, '2026-01-01T10:00:00.000000000+00:00 stdout F first\n');
    let running = true;
    const got: string[] = [];
    const reader = (async () => {
      for await (const e of readLogs(p, { follow: true, stillRunning: () => running })) {
        got.push(e.data.toString());
        if (got.length === 1) {
          await appendFile(p, '2026-01-01T10:00:01.000000000+00:00 stdout F second\n');
        }
        if (got.length === 2) {
          // written just before the "exit": must still be drained
          await appendFile(p, '2026-01-01T10:00:02.000000000+00:00 stderr F third\n');
          running = false;
        }
      }
    })();
    await reader;
    assert.deepEqual(got, ['first\n', 'second\n', 'third\n']);

    // abort ends a follow of a still-running container
    const ac = new AbortController();
    const seen: string[] = [];
    const r2 = (async () => {
      for await (const e of readLogs(p, { follow: true, tail: 1, signal: ac.signal, stillRunning: () => true })) {
        seen.push(e.data.toString());
        ac.abort();
      }
    })();
    await r2;
    assert.deepEqual(seen, ['third\n']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('readLogs: follow a real container until it exits', async () => {
  const b = await makeBundle(['sh', '-c', 'for i in 1 2 3; do echo n$i; sleep 0.2; done; printf no-newline >&2']);
  const rt = new Runtime({ stateDir: b.stateDir });
  const id = randomId();
  try {
    await rt.create(id, { bundleDir: b.bundleDir, tty: false, openStdin: false, logPath: b.logPath });
    await rt.start(id);
    let exited = false;
    void rt.waitExit(id).then(() => (exited = true));
    const es = await all(readLogs(b.logPath, { follow: true, stillRunning: () => !exited }));
    assert.deepEqual(show(es), ['stdout:n1\n', 'stdout:n2\n', 'stdout:n3\n', 'stderr:no-newline']);
  } finally {
    await rt.delete(id, { force: true });
    await b.cleanup();
  }
});
