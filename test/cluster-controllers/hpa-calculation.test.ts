// The HorizontalPodAutoscaler's arithmetic without a server: the replica
// calculator (tolerance, unready and missing pods, requests), the behavior
// (stabilization windows, Pods/Percent policies, selectPolicy), the v1 <-> v2
// conversion and the TARGETS column, and the metrics pipeline's parsing
// (agent's /proc and cgroup readings, Prometheus text, rates).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resourceReplicas, type PodFacts, type PodMetrics } from '../../src/controllers/hpa/replica-calculator.js';
import { ScalingHistory, defaultScaleDown, defaultScaleUp } from '../../src/controllers/hpa/scaling-behavior.js';
import { milliQuantity, milliValue, podUsage } from '../../src/controllers/hpa/resource-metric.js';
import { hpaTargets, hpaV1ToV2, hpaV2ToV1 } from '../../src/kube/api/hpa-conversion.js';
import { nodeCpuNs, nodeMemory, workingSet } from '../../src/node/agent/resource-usage.js';
import { resourceMetricsText } from '../../src/node/agent/resource-metrics.js';
import { parsePrometheusText } from '../../src/apiserver/metrics/prometheus-text.js';
import { pointsOf, startPoint } from '../../src/apiserver/metrics/metrics-scraper.js';
import { goDuration, memoryQuantity } from '../../src/apiserver/metrics/metrics-api.js';
import { parseServerArgs } from '../../src/cluster/main.js';
import { validateHpa } from '../../src/kube/api/hpa-validation.js';

const NOW = 1_800_000_000_000;
const LONG_AGO = NOW - 3_600_000;

/** A running, long-ready pod requesting `request` millicores. */
const pod = (name: string, request: number | null = 100, over: Partial<PodFacts> = {}): PodFacts => ({
  name,
  phase: 'Running',
  deleting: false,
  startTime: LONG_AGO,
  ready: { status: 'True', lastTransitionTime: LONG_AGO },
  containers: [{ name: 'app', request: request ?? undefined }],
  ...over,
});
const usage = (entries: Record<string, number>): PodMetrics => new Map(Object.entries(entries).map(([k, v]) => [k, { value: v, timestamp: NOW - 1000, windowMs: 1000 }]));
const opts = { now: NOW };

test('replicas: ceil(ready pods x usage / target), unchanged within the 10% tolerance', () => {
  const pods = [pod('a'), pod('b')];
  // 100% of request against a 50% target: twice the pods.
  assert.equal(resourceReplicas(2, { utilization: 50 }, 'cpu', pods, usage({ a: 100, b: 100 }), opts).replicas, 4);
  // 54% against 50%: ratio 1.08, within tolerance.
  const within = resourceReplicas(2, { utilization: 50 }, 'cpu', pods, usage({ a: 54, b: 54 }), opts);
  assert.deepEqual([within.replicas, within.utilization, within.rawAverage], [2, 54, 54]);
  // 20% against 50%: ceil(0.4 x 2) = 1.
  assert.equal(resourceReplicas(2, { utilization: 50 }, 'cpu', pods, usage({ a: 20, b: 20 }), opts).replicas, 1);
  // Average value: 300m per pod against 100m -> 3x.
  const av = resourceReplicas(2, { averageValue: 100 }, 'cpu', pods, usage({ a: 300, b: 300 }), opts);
  assert.deepEqual([av.replicas, av.utilization, av.rawAverage], [6, undefined, 300]);
});

test('replicas: missing pods count as 100% of request on scale-down and 0% on scale-up; unready pods as 0% on scale-up', () => {
  // Scale-down with a missing pod: it is taken to use its whole request, so the drop is smaller.
  const down = resourceReplicas(3, { utilization: 50 }, 'cpu', [pod('a'), pod('b'), pod('c')], usage({ a: 10, b: 10 }), opts);
  // (10 + 10 + 100) / 300 = 40% -> ratio 0.8 -> ceil(0.8 x 3) = 3 -> 3.
  assert.equal(down.replicas, 3);
  // Scale-up with a missing pod: it counts as 0, so the rise is smaller: (200 + 0) / 200 = 100% -> ratio 2 -> 4.
  assert.equal(resourceReplicas(2, { utilization: 50 }, 'cpu', [pod('a'), pod('b')], usage({ a: 200 }), opts).replicas, 4);
  // A pod that just became ready, its sample not a whole window after that: unready, counted as 0 on scale-up.
  const fresh = pod('b', 100, { startTime: NOW - 10_000, ready: { status: 'True', lastTransitionTime: NOW - 1500 } });
  assert.equal(resourceReplicas(2, { utilization: 50 }, 'cpu', [pod('a'), fresh], usage({ a: 300, b: 300 }), opts).replicas, 6);
  // Pending pods are unready; when nothing is left: Kubernetes' error.
  assert.throws(() => resourceReplicas(1, { utilization: 50 }, 'cpu', [pod('a', 100, { phase: 'Pending' })], usage({ a: 10 }), opts), /did not receive metrics for targeted pods \(pods might be unready\)/);
  // Deleting and failed pods do not count at all.
  assert.equal(resourceReplicas(2, { utilization: 50 }, 'cpu', [pod('a'), pod('b', 100, { deleting: true })], usage({ a: 50, b: 500 }), opts).replicas, 2);
});

test('replicas: a container without a request is an error naming it; no pods is one too', () => {
  assert.throws(() => resourceReplicas(1, { utilization: 50 }, 'cpu', [pod('web-1', null)], usage({ 'web-1': 10 }), opts), { message: 'missing request for cpu in container app of Pod web-1' });
  // An average value target needs no request.
  assert.equal(resourceReplicas(1, { averageValue: 1000 }, 'memory', [pod('web-1', null)], usage({ 'web-1': 5000 }), opts).replicas, 5);
  assert.throws(() => resourceReplicas(1, { utilization: 50 }, 'cpu', [], usage({}), opts), /no pods returned by selector/);
});

test('without spec.behavior: a 5-minute scale-down window, and a step at most doubles (or reaches 4)', () => {
  const h = new ScalingHistory(300_000);
  h.recordInitial('k', 5, NOW);
  // Wants 2, but 5 was recommended within the window.
  let n = h.normalize('k', 5, 2, 1, 10, NOW + 10_000);
  assert.deepEqual([n.replicas, n.ableToScale.reason, n.limited], [5, 'ScaleDownStabilized', false]);
  // Once the window has passed, the low recommendation wins.
  n = h.normalize('k', 5, 2, 1, 10, NOW + 400_000);
  assert.deepEqual([n.replicas, n.ableToScale.reason], [2, 'ReadyForNewScale']);
  // Scale-up from 1 to 20 is capped at 4 (ScaleUpLimit), then by maxReplicas (TooManyReplicas).
  n = h.normalize('u', 1, 20, 1, 10, NOW);
  assert.deepEqual([n.replicas, n.limited, n.scalingLimited.reason], [4, true, 'ScaleUpLimit']);
  n = h.normalize('u', 4, 20, 1, 6, NOW);
  assert.deepEqual([n.replicas, n.scalingLimited.reason], [6, 'TooManyReplicas']);
  n = h.normalize('m', 3, 0, 2, 10, NOW);
  assert.deepEqual([n.replicas, n.scalingLimited.reason], [2, 'TooFewReplicas']);
});

test('with spec.behavior: stabilization windows both ways, Pods/Percent policies per period, selectPolicy', () => {
  const defaults = { scaleUp: defaultScaleUp(undefined), scaleDown: defaultScaleDown({ stabilizationWindowSeconds: 60 }) };
  const h = new ScalingHistory(300_000);
  // Default scale-up policy from 2: max(+4 pods, +100%) = 6 per 15 s.
  let n = h.normalizeWithBehavior('k', 2, 20, 1, 50, defaults, NOW);
  assert.deepEqual([n.replicas, n.scalingLimited.reason], [6, 'ScaleUpLimit']);
  h.recordScale('k', 2, 6, defaults, NOW);
  // Within the same 15 s the period started at 2, so still at most 6.
  n = h.normalizeWithBehavior('k', 6, 20, 1, 50, defaults, NOW + 5000);
  assert.equal(n.replicas, 6);
  // After the period: from 6, +100% = 12.
  n = h.normalizeWithBehavior('k', 6, 20, 1, 50, defaults, NOW + 16_000);
  assert.equal(n.replicas, 12);
  // Scale-down: the 60 s window holds the high recommendations of the last minute.
  n = h.normalizeWithBehavior('k', 12, 1, 1, 50, defaults, NOW + 20_000);
  assert.deepEqual([n.replicas, n.ableToScale.reason], [12, 'ScaleDownStabilized']);
  n = h.normalizeWithBehavior('k', 12, 1, 1, 50, defaults, NOW + 90_000);
  assert.equal(n.replicas, 1);

  // selectPolicy Min picks the smaller change; Disabled none; a Pods scale-down policy limits the step.
  const minUp = { scaleUp: defaultScaleUp({ selectPolicy: 'Min' }), scaleDown: defaultScaleDown({ stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 2, periodSeconds: 30 }] }) };
  const h2 = new ScalingHistory(300_000);
  assert.equal(h2.normalizeWithBehavior('m', 10, 40, 1, 50, minUp, NOW).replicas, 14);
  const d = h2.normalizeWithBehavior('m', 10, 1, 1, 50, minUp, NOW + 60_000);
  assert.deepEqual([d.replicas, d.scalingLimited.reason], [8, 'ScaleDownLimit']);
  h2.recordScale('m', 10, 8, minUp, NOW + 60_000);
  assert.equal(h2.normalizeWithBehavior('m', 8, 1, 1, 50, minUp, NOW + 70_000).replicas, 8);
  const off = { scaleUp: defaultScaleUp({ selectPolicy: 'Disabled' }), scaleDown: defaultScaleDown(undefined) };
  assert.equal(new ScalingHistory(0).normalizeWithBehavior('o', 3, 9, 1, 10, off, NOW).replicas, 3);
  // A scale-up window keeps the lowest recent recommendation.
  const slowUp = { scaleUp: defaultScaleUp({ stabilizationWindowSeconds: 30 }), scaleDown: defaultScaleDown(undefined) };
  const h3 = new ScalingHistory(300_000);
  h3.normalizeWithBehavior('s', 2, 2, 1, 10, slowUp, NOW);
  const s = h3.normalizeWithBehavior('s', 2, 8, 1, 10, slowUp, NOW + 5000);
  assert.deepEqual([s.replicas, s.ableToScale.reason], [2, 'ScaleUpStabilized']);
});

test('quantities: milli-values round up as MilliValue, canonical decimal strings back', () => {
  assert.equal(milliValue('100m'), 100);
  assert.equal(milliValue('12345n'), 1);
  assert.equal(milliValue('64Mi'), 64 * 2 ** 20 * 1000);
  assert.equal(milliQuantity(250), '250m');
  assert.equal(milliQuantity(12_000_000), '12k');
  assert.equal(milliQuantity(4_321_280_000), '4321280');
  assert.equal(memoryQuantity(3 * 1024), '3Ki');
  assert.equal(goDuration(1002), '1.002s');
  assert.equal(goDuration(61_500), '1m1.5s');
  const m = podUsage([{ metadata: { name: 'p' }, timestamp: '2026-01-01T00:00:00Z', window: '1.5s', containers: [{ name: 'a', usage: { cpu: '50m' } }, { name: 'b', usage: { cpu: '25000000n' } }] }], 'cpu');
  assert.deepEqual(m.get('p'), { value: 75, timestamp: Date.parse('2026-01-01T00:00:00Z'), windowMs: 1500 });
});

test('autoscaling v2 -> v1 -> v2 keeps metrics, behavior, current metrics and conditions; TARGETS as kubectl prints it', () => {
  const v2 = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'default', annotations: { keep: 'me' } },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 5,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
        { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
      ],
      behavior: { scaleUp: defaultScaleUp(undefined), scaleDown: defaultScaleDown({ stabilizationWindowSeconds: 10 }) },
    },
    status: {
      currentReplicas: 2,
      desiredReplicas: 2,
      currentMetrics: [
        { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 12, averageValue: '12m' } } },
        { type: 'Resource', resource: { name: 'memory', current: { averageValue: '3000k' } } },
      ],
      conditions: [{ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' }],
    },
  };
  assert.equal(hpaTargets(v2), 'cpu: 12%/50%, memory: 3000k/100Mi');
  const v1 = hpaV2ToV1(v2);
  assert.equal(v1.spec.targetCPUUtilizationPercentage, 50);
  assert.equal(v1.status.currentCPUUtilizationPercentage, 12);
  assert.equal(v1.metadata!.annotations!.keep, 'me');
  const back = hpaV1ToV2(v1);
  assert.deepEqual(back.spec.metrics, [v2.spec.metrics[1], v2.spec.metrics[0]]);
  assert.deepEqual(back.spec.behavior, v2.spec.behavior);
  assert.deepEqual(back.status.currentMetrics, v2.status.currentMetrics);
  assert.deepEqual(back.status.conditions, v2.status.conditions);
  assert.deepEqual(back.metadata!.annotations, { keep: 'me' });
  // A v1 object without a target gets Kubernetes' implicit 80% CPU.
  assert.deepEqual(hpaV1ToV2({ metadata: { name: 'x' }, spec: { maxReplicas: 2 } }).spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  assert.equal(hpaTargets({ spec: { metrics: v2.spec.metrics }, status: { currentMetrics: [{ type: '' }] } }), 'cpu: <unknown>/50%, memory: <unknown>/100Mi');
});

test('metrics pipeline: /proc and cgroup readings, the agent\'s Prometheus text, rates from two scrapes', () => {
  assert.equal(nodeCpuNs('cpu  100 5 50 9000 40 3 2 0 0 0\ncpu0 1 2 3'), 160 * 1e7);
  const mem = nodeMemory('MemTotal: 1000 kB\nMemFree: 400 kB\nInactive(file): 100 kB\n');
  assert.deepEqual(mem, { totalBytes: 1_024_000, usageBytes: 614_400, workingSetBytes: 512_000, availableBytes: 512_000 });
  const v1 = { cpuNs: 0, memoryUsage: 10_000, memoryStats: { total_inactive_file: 3000 } };
  const v2 = { cpuNs: 0, memoryUsage: 10_000, memoryStats: { inactive_file: 4000 } };
  assert.deepEqual([workingSet(v1), workingSet(v2)], [7000, 6000]);

  const snap = (at: number, cpuNs: number) => ({
    time: new Date(at),
    node: { cpuNs: cpuNs * 4, workingSetBytes: 5e8, usageBytes: 6e8, availableBytes: 1e9 },
    pods: [{ namespace: 'ns', name: 'p"1', uid: 'u', startTime: '2026-01-01T00:00:00Z', cpuNs, workingSetBytes: 2048, usageBytes: 4096, containers: [{ name: 'app', startTime: '2026-01-01T00:00:00Z', cpuNs, workingSetBytes: 2048, usageBytes: 4096 }] }],
  });
  const first = pointsOf(parsePrometheusText(resourceMetricsText(snap(NOW, 1e9))), 0);
  const second = pointsOf(parsePrometheusText(resourceMetricsText(snap(NOW + 2000, 1.5e9))), 0);
  const c1 = first.containers.get('ns/p"1/app')!;
  const c2 = second.containers.get('ns/p"1/app')!;
  assert.deepEqual(c1, { cpuSeconds: 1, at: NOW, workingSetBytes: 2048, start: Date.parse('2026-01-01T00:00:00Z') / 1000 });
  // 0.5 core-seconds over 2 s: a quarter core.
  assert.equal(((c2.cpuSeconds - c1.cpuSeconds) / (c2.at - c1.at)) * 1e12, 250_000_000);
  assert.equal(second.node!.cpuSeconds, 6);
});

test('a container that started since the node\'s previous scrape is rated from its start, as metrics-server does', () => {
  const startS = NOW / 1000 - 5;
  const cur = { at: NOW, cpuSeconds: 0.5, workingSetBytes: 2048, start: startS };
  // Started 5 s ago, after the previous scrape 8 s ago: its start is the point before.
  assert.deepEqual(startPoint(cur, NOW - 8000, 1000), { at: NOW - 5000, cpuSeconds: 0, workingSetBytes: 2048, start: startS });
  // It was running at the previous scrape (which should have seen it), there was none, or it is younger than a resolution: no rate yet.
  assert.equal(startPoint(cur, NOW - 4000, 1000), undefined);
  assert.equal(startPoint(cur, undefined, 1000), undefined);
  assert.equal(startPoint(cur, NOW - 8000, 6000), undefined);
  assert.equal(startPoint({ at: NOW, cpuSeconds: 0.5, workingSetBytes: 2048 }, NOW - 8000, 1000), undefined, 'no start time, no start point');
});

test('tug server takes the metric resolution, the HPA sync period and the downscale window as durations, and names a bad one', () => {
  const a = parseServerArgs(['--data-dir', '/x', '--metric-resolution', '500ms', '--horizontal-pod-autoscaler-sync-period', '2s', '--horizontal-pod-autoscaler-downscale-stabilization', '5m']);
  assert.ok(a !== 'help');
  assert.deepEqual([a.metricResolutionMs, a.hpaSyncPeriodMs, a.hpaDownscaleStabilizationMs], [500, 2000, 300_000]);
  const d = parseServerArgs(['--data-dir', '/x']);
  assert.ok(d !== 'help');
  assert.deepEqual([d.metricResolutionMs, d.hpaSyncPeriodMs, d.hpaDownscaleStabilizationMs], [undefined, undefined, undefined]);
  assert.throws(() => parseServerArgs(['--data-dir', '/x', '--horizontal-pod-autoscaler-sync-period', 'soon']), /--horizontal-pod-autoscaler-sync-period "soon" is not a duration/);
  assert.throws(() => parseServerArgs(['--data-dir', '/x', '--metric-resolution', '10ms']), /--metric-resolution "10ms" is not a duration of at least 100ms/);
});

test('HPA validation: Kubernetes\' field paths and messages for replicas, metrics and behavior', () => {
  const base = { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 3 };
  const errs = (spec: object) => validateHpa({ spec: { ...base, ...spec } }).map((e) => `${e.field}: ${e.message}`);
  assert.deepEqual(errs({}), []);
  assert.deepEqual(errs({ minReplicas: 0 }), ['spec.minReplicas: Invalid value: 0: must be greater than or equal to 1']);
  assert.deepEqual(errs({ minReplicas: 4 }), ['spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`']);
  assert.deepEqual(errs({ metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 0 } } }] }), ['spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0']);
  assert.deepEqual(errs({ metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue' } } }] }), ['spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization']);
  assert.deepEqual(errs({ metrics: [{ type: 'Cpu' }] }), ['spec.metrics[0].type: Unsupported value: "Cpu": supported values: "ContainerResource", "External", "Object", "Pods", "Resource"']);
  assert.deepEqual(errs({ metrics: [{ type: 'Resource' }] }), ['spec.metrics[0].resource: Required value: must populate information for the given metric source']);
  assert.deepEqual(errs({ behavior: { scaleDown: { stabilizationWindowSeconds: 4000, policies: [{ type: 'Pods', value: 0, periodSeconds: 2000 }] } } }), [
    'spec.behavior.scaleDown.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600',
    'spec.behavior.scaleDown.policies[0].periodSeconds: Invalid value: 2000: must be less than or equal to 1800',
    'spec.behavior.scaleDown.policies[0].value: Invalid value: 0: must be greater than zero',
  ]);
  assert.deepEqual(errs({ behavior: { scaleUp: { selectPolicy: 'Fastest' } } }), ['spec.behavior.scaleUp.selectPolicy: Unsupported value: "Fastest": supported values: "Disabled", "Max", "Min"']);
});
