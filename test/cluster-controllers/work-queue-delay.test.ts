// The work queue's delayed adds keep the earliest ready time, as client-go's
// delaying queue does: a later, longer delay never postpones a sooner one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from '../../src/kube/client/work-queue.js';

async function firstKeyWithin(q: WorkQueue, ms: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  const key = await Promise.race([q.get(), timeout]);
  clearTimeout(timer);
  return key;
}

test('a longer addAfter does not postpone a sooner one', async () => {
  const q = new WorkQueue();
  q.addAfter('k', 50);
  q.addAfter('k', 60_000);
  assert.equal(await firstKeyWithin(q, 5_000), 'k');
  q.shutdown();
});

test('a sooner addAfter replaces a later one', async () => {
  const q = new WorkQueue();
  q.addAfter('k', 60_000);
  q.addAfter('k', 50);
  assert.equal(await firstKeyWithin(q, 5_000), 'k');
  q.done('k');
  // The replaced 60 s timer is gone: nothing else arrives.
  assert.equal(q.length, 0);
  q.shutdown();
});
