// Metrics and autoscaling on a real single-node cluster, through kubectl:
// kubectl top (nodes, pods, --containers, -A, -l) with live numbers from the
// agent's cgroups, an HPA made by `kubectl autoscale` scaling a CPU-burning
// Deployment out and back in (the pods burn while /tmp/burn exists, which
// the test creates and removes), an AverageValue memory target, the v1 <-> v2
// round trip, and the conditions for a target without a scale subresource
// and for pods without requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { parseQuantity } from '../../src/kube/api/quantity.js';
import { leftovers } from '../cluster-agent/agent-cluster.js';
import { startE2eCluster, hex, type E2eCluster } from '../cluster-e2e/e2e-cluster.js';

let c: E2eCluster | undefined;
const ns = `hpa-${hex(3)}`;

before(async () => {
  c = await startE2eCluster();
  await c.kubectl(['create', 'namespace', ns]);
});

after(async () => {
  if (!c) return;
  await c.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { allowFailure: true });
  const { dataDir, net } = c;
  await c.stop();
  assert.deepEqual(await leftovers(dataDir, net), []);
});

const k = (args: string[], input?: string) => c!.kubectl(['-n', ns, ...args], { input });
const json = async (args: string[]): Promise<any> => JSON.parse((await k([...args, '-o', 'json'])).stdout);

/** A Deployment whose pods hold ~4 MB of heap and burn a CPU while /tmp/burn exists. */
function burner(name: string, requests?: Record<string, string>): string {
  const script = "x=$(head -c 4000000 /dev/zero | tr '\\0' a); while true; do while [ -f /tmp/burn ]; do :; done; sleep 1; done";
  return stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', script], ...(requests ? { resources: { requests } } : {}) }] },
      },
    },
  });
}

/** Rows of a kubectl table (header dropped), split on runs of spaces. */
const rows = (out: string): string[][] => out.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
const mi = (v: string | undefined): number => Number(/^(\d+)Mi$/.exec(v ?? '')?.[1] ?? NaN);
const milli = (v: string | undefined): number => Number(/^(\d+)m$/.exec(v ?? '')?.[1] ?? NaN);

async function readyPods(app: string): Promise<string[]> {
  const l = await json(['get', 'pods', '-l', `app=${app}`]);
  return l.items.filter((p: any) => !p.metadata.deletionTimestamp && p.status.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True')).map((p: any) => p.metadata.name);
}

test('the metrics API is registered and discoverable; kubectl top nodes shows the node using memory and CPU', async () => {
  const svc = await c!.kubectl(['get', 'apiservice', 'v1beta1.metrics.k8s.io', '-o', 'jsonpath={.status.conditions[?(@.type=="Available")].status}']);
  assert.equal(svc.stdout, 'True');
  const res = await c!.kubectl(['api-resources', '--api-group=metrics.k8s.io', '-o', 'name']);
  assert.deepEqual(res.stdout.trim().split('\n').sort(), ['nodes.metrics.k8s.io', 'pods.metrics.k8s.io']);
  const row = await c!.until('kubectl top nodes', async () => {
    const r = await c!.kubectl(['top', 'nodes'], { allowFailure: true });
    return r.code === 0 && rows(r.stdout)[0];
  });
  // NAME CPU(cores) CPU(%) MEMORY(bytes) MEMORY(%)
  assert.ok(milli(row[1]) > 0 || /^\d+$/.test(row[1]!), `node CPU ${row[1]}`);
  assert.ok(mi(row[3]) > 0, `node memory ${row[3]}`);
  // The raw object has metrics-server's shape.
  const nm = JSON.parse((await c!.kubectl(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/nodes/${row[0]}`])).stdout);
  assert.equal(nm.kind, 'NodeMetrics');
  assert.match(nm.usage.cpu, /^\d+n$/);
  assert.match(nm.window, /^\d+(\.\d+)?s$/);
});

test('kubectl autoscale scales a CPU-burning Deployment out under load and back in when it ends; kubectl top shows the burn', async () => {
  // A small request, so that even a busy loop starved by a loaded machine is far above 50% of it.
  await k(['apply', '-f', '-'], burner('burn', { cpu: '20m', memory: '16Mi' }));
  await k(['autoscale', 'deploy', 'burn', '--cpu-percent=50', '--min=1', '--max=3']);
  // Read as v2, the v1 object has its CPU target as a metric; a short scale-down window keeps the test short.
  const v2 = await json(['get', 'hpa.v2.autoscaling', 'burn']);
  assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
  await k(['patch', 'hpa.v2.autoscaling', 'burn', '--type=merge', '-p', JSON.stringify({ spec: { behavior: { scaleDown: { stabilizationWindowSeconds: 3 } } } })]);
  const [pod] = await c!.until('the first burn pod Ready', async () => (await readyPods('burn')).length === 1 && readyPods('burn'));
  // Idle: within target, one replica, TARGETS as kubectl prints it.
  await c!.until('the HPA reading the idle pod', async () => (await json(['get', 'hpa', 'burn'])).status?.currentMetrics?.[0]?.resource?.current?.averageUtilization !== undefined);
  const idle = rows((await k(['get', 'hpa', 'burn'])).stdout)[0]!;
  assert.equal(idle[1], 'Deployment/burn');
  assert.match(`${idle[2]} ${idle[3]}`, /^cpu: \d+%\/50%$/, `TARGETS ${idle.join(' ')}`);

  await k(['exec', pod!, '--', 'touch', '/tmp/burn']);
  // kubectl top sees the burn (tens of millicores at least, even on a busy machine) and the pod's heap.
  const top = await c!.until('kubectl top pods showing the burn', async () => {
    const r = rows((await k(['top', 'pods', '-l', 'app=burn'])).stdout).find((x) => x[0] === pod);
    return r && milli(r[1]) >= 20 && r;
  });
  assert.ok(mi(top[2]) >= 3, `pod memory ${top[2]}`);
  await c!.until('the HPA scaling burn out to 3', async () => (await json(['get', 'hpa', 'burn'])).status?.desiredReplicas === 3);
  await c!.until('3 Ready burn pods', async () => (await readyPods('burn')).length === 3);
  const out = await json(['get', 'hpa', 'burn']);
  assert.ok(out.status.lastScaleTime);
  assert.equal(typeof out.status.currentMetrics[0].resource.current.averageUtilization, 'number');
  const events = (await json(['get', 'events', '--field-selector', 'involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=burn'])).items;
  assert.ok(
    events.some((e: any) => e.reason === 'SuccessfulRescale' && e.message === 'New size: 3; reason: cpu resource utilization (percentage of request) above target' && e.source.component === 'horizontal-pod-autoscaler'),
    JSON.stringify(events.map((e: any) => [e.reason, e.message])),
  );
  // --containers, -A and -l: the burning container by name; the other namespace's pods are not in -l's answer.
  const containers = rows((await k(['top', 'pods', '--containers', pod!])).stdout);
  assert.deepEqual(containers.map((r) => [r[0], r[1]]), [[pod, 'app']]);
  const all = rows((await c!.kubectl(['top', 'pods', '-A', '-l', 'app=burn'])).stdout);
  assert.ok(all.some((r) => r[0] === ns && r[1] === pod), JSON.stringify(all));

  await k(['exec', pod!, '--', 'rm', '-f', '/tmp/burn']);
  await c!.until('the HPA scaling burn back in to 1', async () => (await json(['get', 'deploy', 'burn'])).spec.replicas === 1);
  const after = await json(['get', 'hpa', 'burn']);
  assert.deepEqual(
    after.status.conditions.map((x: any) => x.type),
    ['AbleToScale', 'ScalingActive', 'ScalingLimited'],
  );
  const scaledIn = (await json(['get', 'events', '--field-selector', 'involvedObject.name=burn,reason=SuccessfulRescale'])).items;
  assert.ok(scaledIn.some((e: any) => e.message === 'New size: 1; reason: All metrics below target'), JSON.stringify(scaledIn.map((e: any) => e.message)));
});

test('autoscaling/v1 <-> v2: a v1 read carries v2-only fields in annotations, and a v1 write keeps them', async () => {
  await k(['apply', '-f', '-'], stringify({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'conv' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'absent' },
      minReplicas: 1,
      maxReplicas: 4,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
        { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '64Mi' } } },
      ],
      behavior: { scaleDown: { stabilizationWindowSeconds: 30, policies: [{ type: 'Pods', value: 1, periodSeconds: 20 }] } },
    },
  }));
  const path = `/apis/autoscaling/v1/namespaces/${ns}/horizontalpodautoscalers/conv`;
  const v1 = JSON.parse((await c!.kubectl(['get', '--raw', path])).stdout);
  assert.equal(v1.apiVersion, 'autoscaling/v1');
  assert.equal(v1.spec.targetCPUUtilizationPercentage, 70);
  assert.deepEqual(JSON.parse(v1.metadata.annotations['autoscaling.alpha.kubernetes.io/metrics']), [{ type: 'Resource', resource: { name: 'memory', targetAverageValue: '64Mi' } }]);
  assert.equal(JSON.parse(v1.metadata.annotations['autoscaling.alpha.kubernetes.io/behavior']).ScaleDown.StabilizationWindowSeconds, 30);
  // Written back through v1 with a new CPU target: the memory metric and the behavior survive.
  v1.spec.targetCPUUtilizationPercentage = 60;
  delete v1.metadata.managedFields;
  await c!.kubectl(['replace', '--raw', path, '-f', '-'], { input: JSON.stringify(v1) });
  const v2 = await json(['get', 'hpa.v2.autoscaling', 'conv']);
  assert.deepEqual(v2.spec.metrics, [
    { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '64Mi' } } },
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
  ]);
  assert.equal(v2.spec.behavior.scaleDown.stabilizationWindowSeconds, 30);
  assert.deepEqual(v2.spec.behavior.scaleDown.policies, [{ type: 'Pods', value: 1, periodSeconds: 20 }]);
  assert.equal(v2.metadata.annotations?.['autoscaling.alpha.kubernetes.io/behavior'], undefined);
  // The missing target is a FailedGetScale too, with the API's not-found message.
  const cond = await c!.until('FailedGetScale for the absent Deployment', async () => (await json(['get', 'hpa', 'conv'])).status?.conditions?.find((x: any) => x.reason === 'FailedGetScale'));
  assert.match(cond.message, /deployments\.apps "absent" not found/);
});

test('an AverageValue memory target scales by the pods\' working set', async () => {
  await k(['apply', '-f', '-'], burner('mem'));
  await k(['apply', '-f', '-'], stringify({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'mem' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'mem' },
      minReplicas: 1,
      maxReplicas: 2,
      // Each pod holds ~4 MB: far above 1Mi per pod, so the HPA goes to its maximum.
      metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '1Mi' } } }],
    },
  }));
  await c!.until('the memory HPA scaling to 2', async () => (await json(['get', 'deploy', 'mem'])).spec.replicas === 2);
  // The HPA keeps asking for more than its maximum: ScalingLimited, with the usage per pod (not a percentage) in status.
  const hpa = await c!.until('ScalingLimited TooManyReplicas', async () => {
    const h = await json(['get', 'hpa', 'mem']);
    return h.status?.conditions?.some((x: any) => x.type === 'ScalingLimited' && x.status === 'True' && x.reason === 'TooManyReplicas') && h.status.currentMetrics?.[0]?.resource && h;
  });
  const current = hpa.status.currentMetrics[0].resource.current;
  assert.equal(current.averageUtilization, undefined);
  assert.ok(parseQuantity(current.averageValue)! > 2 ** 20, `averageValue ${current.averageValue}`);
  const targets = rows((await k(['get', 'hpa', 'mem'])).stdout)[0]!;
  assert.match(`${targets[2]} ${targets[3]}`, /^memory: \d+[kMGm]?\/1Mi$/);
});

test('an invalid HPA is refused with the field and Kubernetes\' message, through v2 and v1 alike', async () => {
  const hpa = (apiVersion: string, spec: object) => stringify({ apiVersion, kind: 'HorizontalPodAutoscaler', metadata: { name: 'bad' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'x' }, maxReplicas: 2, ...spec } });
  const v2 = await c!.kubectl(['-n', ns, 'apply', '-f', '-'], { input: hpa('autoscaling/v2', { metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 0 } } }] }), allowFailure: true });
  assert.notEqual(v2.code, 0);
  assert.match(v2.stderr, /The HorizontalPodAutoscaler "bad" is invalid: spec.metrics\[0\].resource.target.averageUtilization: Invalid value: 0: must be greater than 0/);
  const v1 = await c!.kubectl(['-n', ns, 'apply', '-f', '-'], { input: hpa('autoscaling/v1', { minReplicas: 3 }), allowFailure: true });
  assert.match(v1.stderr, /spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`/);
  assert.equal((await c!.kubectl(['-n', ns, 'get', 'hpa', 'bad'], { allowFailure: true })).code, 1);
});

test('ReplicaSets and StatefulSets are scaled through their scale subresource too', async () => {
  const tpl = { metadata: { labels: { app: 'sized' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'], resources: { requests: { cpu: '10m' } } }] } };
  await k(['apply', '-f', '-'], stringify({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs' }, spec: { replicas: 1, selector: { matchLabels: { app: 'sized' } }, template: tpl } }));
  await k(['apply', '-f', '-'], stringify({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'sts' }, spec: { replicas: 1, serviceName: 'sts', selector: { matchLabels: { app: 'sized-sts' } }, template: { ...tpl, metadata: { labels: { app: 'sized-sts' } } } } }));
  for (const [kind, name] of [['ReplicaSet', 'rs'], ['StatefulSet', 'sts']]) {
    // minReplicas 2 above the current 1: the HPA raises it through /scale whatever the metrics say.
    await k(['apply', '-f', '-'], stringify({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: `hpa-${name}` }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind, name }, minReplicas: 2, maxReplicas: 3 } }));
    await c!.until(`${kind} scaled to minReplicas`, async () => (await json(['get', kind.toLowerCase(), name])).spec.replicas === 2);
    const hpa = await c!.until(`HPA on ${kind} status`, async () => {
      const h = await json(['get', 'hpa', `hpa-${name}`]);
      return h.status?.lastScaleTime && h;
    });
    assert.equal(hpa.status.conditions.find((x: any) => x.type === 'AbleToScale').status, 'True');
  }
  const events = (await json(['get', 'events', '--field-selector', 'involvedObject.name=hpa-sts,reason=SuccessfulRescale'])).items;
  assert.ok(events.some((e: any) => e.message === 'New size: 2; reason: Current number of replicas below Spec.MinReplicas'), JSON.stringify(events.map((e: any) => e.message)));
});

test('a target without a scale subresource: AbleToScale False, FailedGetScale', async () => {
  await k(['create', 'configmap', 'cfg']);
  await k(['apply', '-f', '-'], stringify({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'noscale' },
    spec: { scaleTargetRef: { apiVersion: 'v1', kind: 'ConfigMap', name: 'cfg' }, maxReplicas: 3 },
  }));
  const cond = await c!.until('AbleToScale False', async () => (await json(['get', 'hpa', 'noscale'])).status?.conditions?.find((x: any) => x.type === 'AbleToScale' && x.status === 'False'));
  assert.equal(cond.reason, 'FailedGetScale');
  assert.equal(cond.message, "the HPA controller was unable to get the target's current scale: could not find scale subresource for /v1, Resource=configmaps in discovery information");
  const events = (await json(['get', 'events', '--field-selector', 'involvedObject.name=noscale,reason=FailedGetScale'])).items;
  assert.equal(events[0]?.type, 'Warning');
});

test('pods without a CPU request: ScalingActive False, FailedGetResourceMetric with the missing request', async () => {
  await k(['apply', '-f', '-'], burner('noreq'));
  await k(['autoscale', 'deploy', 'noreq', '--cpu-percent=50', '--max=3']);
  const cond = await c!.until('FailedGetResourceMetric naming the missing request', async () =>
    (await json(['get', 'hpa', 'noreq'])).status?.conditions?.find((x: any) => x.type === 'ScalingActive' && x.status === 'False' && x.message.includes('missing request')),
  );
  assert.equal(cond.reason, 'FailedGetResourceMetric');
  assert.match(cond.message, /^the HPA was unable to compute the replica count: failed to get cpu utilization: missing request for cpu in container app of Pod noreq-[a-z0-9]+-[a-z0-9]+$/);
  const targets = rows((await k(['get', 'hpa', 'noreq'])).stdout)[0]!;
  assert.equal(`${targets[2]} ${targets[3]}`, 'cpu: <unknown>/50%');
  assert.equal((await json(['get', 'deploy', 'noreq'])).spec.replicas, 1);
});
