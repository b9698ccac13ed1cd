// The pieces under the daemons' /metrics, without a server: a named work queue
// records client-go's series as keys go through it, and a scrape that merges
// two sources holding the same family (the API server's thread and the
// controllers' worker) prints that family once with both label sets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gauge, Registry } from 'prom-client';
import { WorkQueue } from '../../src/kube/client/work-queue.js';
import { workQueueRegistry } from '../../src/kube/client/work-queue-metrics.js';
import { metricsText, type MetricFamilies } from '../../src/util/metrics-registry.js';

const sample = (text: string, line: RegExp): number => Number(line.exec(text)?.[1] ?? NaN);

test('a named work queue counts adds, depth, queue and work durations; an unnamed one records nothing', async () => {
  const q = new WorkQueue({ name: 'unit_queue' });
  const quiet = new WorkQueue();
  q.add('a');
  q.add('b');
  q.add('a'); // deduplicated: not a second add
  quiet.add('x');
  let text = await metricsText([workQueueRegistry]);
  assert.equal(sample(text, /^workqueue_adds_total\{name="unit_queue"\} (\d+)$/m), 2);
  assert.equal(sample(text, /^workqueue_depth\{name="unit_queue"\} (\d+)$/m), 2);
  const key = await q.get();
  q.done(key!);
  q.addRateLimited('b');
  text = await metricsText([workQueueRegistry]);
  assert.equal(sample(text, /^workqueue_depth\{name="unit_queue"\} (\d+)$/m), 1);
  assert.equal(sample(text, /^workqueue_queue_duration_seconds_count\{name="unit_queue"\} (\d+)$/m), 1);
  assert.equal(sample(text, /^workqueue_work_duration_seconds_count\{name="unit_queue"\} (\d+)$/m), 1);
  assert.equal(sample(text, /^workqueue_retries_total\{name="unit_queue"\} (\d+)$/m), 1);
  assert.doesNotMatch(text, /name=""/);
  q.shutdown();
  quiet.shutdown();
});

test('families of one name from two sources merge into one family', async () => {
  const here = new Registry();
  new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'], registers: [here] }).set({ name: 'garbage_collector_attempt_to_delete' }, 3);
  const there = new Registry();
  new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'], registers: [there] }).set({ name: 'deployment' }, 5);
  // The worker's families arrive as JSON (structured clone), not as a Registry.
  const fromWorker = async (): Promise<MetricFamilies> => structuredClone(await there.getMetricsAsJSON()) as MetricFamilies;
  const text = await metricsText([here, fromWorker]);
  assert.equal((text.match(/^# TYPE workqueue_depth gauge$/gm) ?? []).length, 1);
  assert.match(text, /^workqueue_depth\{name="garbage_collector_attempt_to_delete"\} 3$/m);
  assert.match(text, /^workqueue_depth\{name="deployment"\} 5$/m);
});
