// HorizontalPodAutoscaler between autoscaling/v2 (how it is stored) and
// autoscaling/v1, as Kubernetes converts it: v1 has only a CPU utilization
// target, so everything else a v2 object says (other metrics, behavior,
// current metrics, conditions) rides in annotations on the v1 object and
// comes back from them when v1 is written, so a v1 round trip loses nothing.
// Also the TARGETS column kubectl prints from spec.metrics and
// status.currentMetrics.
import type { KObject } from './resource-type.js';

export const METRIC_SPECS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const METRIC_STATUSES_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
const roundTrip = [METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION, CONDITIONS_ANNOTATION, BEHAVIOR_ANNOTATION];
const DEFAULT_CPU_UTILIZATION = 80;

type Any = Record<string, any>;

const isCpuUtilization = (m: Any): boolean => m?.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.averageUtilization !== undefined;

/** A v2 MetricSpec in v1's (v2beta1-like) shape, as the annotation holds it. */
function specToV1(m: Any): Any {
  const t = (x: Any | undefined) => x?.target ?? {};
  switch (m.type) {
    case 'Resource':
      return { type: 'Resource', resource: { name: m.resource?.name, targetAverageUtilization: t(m.resource).averageUtilization, targetAverageValue: t(m.resource).averageValue } };
    case 'ContainerResource':
      return { type: 'ContainerResource', containerResource: { name: m.containerResource?.name, container: m.containerResource?.container, targetAverageUtilization: t(m.containerResource).averageUtilization, targetAverageValue: t(m.containerResource).averageValue } };
    case 'Pods':
      return { type: 'Pods', pods: { metricName: m.pods?.metric?.name, selector: m.pods?.metric?.selector, targetAverageValue: t(m.pods).averageValue } };
    case 'Object':
      return { type: 'Object', object: { target: m.object?.describedObject, metricName: m.object?.metric?.name, selector: m.object?.metric?.selector, targetValue: t(m.object).value, averageValue: t(m.object).averageValue } };
    case 'External':
      return { type: 'External', external: { metricName: m.external?.metric?.name, metricSelector: m.external?.metric?.selector, targetValue: t(m.external).value, targetAverageValue: t(m.external).averageValue } };
    default:
      return m;
  }
}

function specFromV1(m: Any): Any {
  const target = (utilization: unknown, averageValue: unknown, value?: unknown): Any =>
    utilization !== undefined ? { type: 'Utilization', averageUtilization: utilization } : value !== undefined ? { type: 'Value', value } : { type: 'AverageValue', averageValue };
  switch (m.type) {
    case 'Resource':
      return { type: 'Resource', resource: { name: m.resource?.name, target: target(m.resource?.targetAverageUtilization, m.resource?.targetAverageValue) } };
    case 'ContainerResource':
      return { type: 'ContainerResource', containerResource: { name: m.containerResource?.name, container: m.containerResource?.container, target: target(m.containerResource?.targetAverageUtilization, m.containerResource?.targetAverageValue) } };
    case 'Pods':
      return { type: 'Pods', pods: { metric: { name: m.pods?.metricName, selector: m.pods?.selector }, target: { type: 'AverageValue', averageValue: m.pods?.targetAverageValue } } };
    case 'Object':
      return { type: 'Object', object: { describedObject: m.object?.target, metric: { name: m.object?.metricName, selector: m.object?.selector }, target: target(undefined, m.object?.averageValue, m.object?.averageValue === undefined ? m.object?.targetValue : undefined) } };
    case 'External':
      return { type: 'External', external: { metric: { name: m.external?.metricName, selector: m.external?.metricSelector }, target: target(undefined, m.external?.targetAverageValue, m.external?.targetValue) } };
    default:
      return m;
  }
}

function statusToV1(m: Any): Any {
  const c = (x: Any | undefined) => x?.current ?? {};
  switch (m.type) {
    case 'Resource':
      return { type: 'Resource', resource: { name: m.resource?.name, currentAverageUtilization: c(m.resource).averageUtilization, currentAverageValue: c(m.resource).averageValue ?? '0' } };
    case 'ContainerResource':
      return { type: 'ContainerResource', containerResource: { name: m.containerResource?.name, container: m.containerResource?.container, currentAverageUtilization: c(m.containerResource).averageUtilization, currentAverageValue: c(m.containerResource).averageValue ?? '0' } };
    default:
      return m;
  }
}

function statusFromV1(m: Any): Any {
  switch (m.type) {
    case 'Resource':
      return { type: 'Resource', resource: { name: m.resource?.name, current: { averageUtilization: m.resource?.currentAverageUtilization, averageValue: m.resource?.currentAverageValue } } };
    case 'ContainerResource':
      return { type: 'ContainerResource', containerResource: { name: m.containerResource?.name, container: m.containerResource?.container, current: { averageUtilization: m.containerResource?.currentAverageUtilization, averageValue: m.containerResource?.currentAverageValue } } };
    default:
      return m;
  }
}

/** JSON without undefined members (what Go's omitempty leaves). */
const clean = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Go field names: Kubernetes marshals the internal behavior type, which has no json tags. */
function behaviorToAnnotation(b: Any): Any {
  const rules = (r: Any | undefined) =>
    r && { StabilizationWindowSeconds: r.stabilizationWindowSeconds ?? null, SelectPolicy: r.selectPolicy ?? null, Policies: (r.policies ?? null) && r.policies.map((p: Any) => ({ Type: p.type, Value: p.value, PeriodSeconds: p.periodSeconds })) };
  return { ScaleUp: rules(b.scaleUp) ?? null, ScaleDown: rules(b.scaleDown) ?? null };
}

/** Read back case-insensitively, as encoding/json does. */
function behaviorFromAnnotation(a: Any): Any {
  const get = (o: Any | undefined, k: string) => (o ? o[Object.keys(o).find((x) => x.toLowerCase() === k.toLowerCase()) ?? ''] : undefined);
  const rules = (r: Any | undefined) => {
    if (!r) return undefined;
    const policies = get(r, 'policies');
    return clean({
      stabilizationWindowSeconds: get(r, 'stabilizationWindowSeconds') ?? undefined,
      selectPolicy: get(r, 'selectPolicy') ?? undefined,
      policies: Array.isArray(policies) ? policies.map((p: Any) => ({ type: get(p, 'type'), value: get(p, 'value'), periodSeconds: get(p, 'periodSeconds') })) : undefined,
    });
  };
  return clean({ scaleUp: rules(get(a, 'scaleUp')), scaleDown: rules(get(a, 'scaleDown')) });
}

function parseAnnotation(v: string | undefined): any {
  if (!v) return undefined;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

export function hpaV2ToV1(v2: KObject): KObject {
  const { metrics, behavior, ...spec } = v2.spec ?? {};
  const list: Any[] = metrics ?? [];
  const cpu = list.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
  const others = list.filter((m) => !isCpuUtilization(m));
  const st = v2.status ?? {};
  const annotations: Record<string, string> = { ...(v2.metadata?.annotations ?? {}) };
  for (const k of roundTrip) delete annotations[k];
  if (others.length) annotations[METRIC_SPECS_ANNOTATION] = JSON.stringify(clean(others.map(specToV1)));
  if (behavior) annotations[BEHAVIOR_ANNOTATION] = JSON.stringify(behaviorToAnnotation(behavior));
  if (st.currentMetrics?.length) annotations[METRIC_STATUSES_ANNOTATION] = JSON.stringify(clean(st.currentMetrics.map(statusToV1)));
  if (st.conditions?.length) annotations[CONDITIONS_ANNOTATION] = JSON.stringify(st.conditions);
  const cur = (st.currentMetrics ?? []).find((m: Any) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.current?.averageUtilization !== undefined);
  const metadata = { ...v2.metadata };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  return {
    ...v2,
    apiVersion: 'autoscaling/v1',
    metadata,
    spec: { ...spec, ...(cpu?.resource?.target?.averageUtilization !== undefined ? { targetCPUUtilizationPercentage: cpu.resource.target.averageUtilization } : {}) },
    status: {
      ...(st.observedGeneration !== undefined ? { observedGeneration: st.observedGeneration } : {}),
      ...(st.lastScaleTime ? { lastScaleTime: st.lastScaleTime } : {}),
      currentReplicas: st.currentReplicas ?? 0,
      desiredReplicas: st.desiredReplicas ?? 0,
      ...(cur ? { currentCPUUtilizationPercentage: cur.resource.current.averageUtilization } : {}),
    },
  };
}

export function hpaV1ToV2(v1: KObject): KObject {
  const { targetCPUUtilizationPercentage: pct, ...spec } = v1.spec ?? {};
  const annotations: Record<string, string> = { ...(v1.metadata?.annotations ?? {}) };
  const others: Any[] = (parseAnnotation(annotations[METRIC_SPECS_ANNOTATION]) ?? []).map(specFromV1);
  const behavior = parseAnnotation(annotations[BEHAVIOR_ANNOTATION]);
  const currentMetrics: Any[] | undefined = parseAnnotation(annotations[METRIC_STATUSES_ANNOTATION])?.map(statusFromV1);
  const conditions = parseAnnotation(annotations[CONDITIONS_ANNOTATION]);
  for (const k of roundTrip) delete annotations[k];
  const cpu = pct !== undefined && pct !== null ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: pct } } }] : [];
  let metrics = [...others, ...cpu];
  // v1's implicit default, made explicit as Kubernetes does on conversion.
  if (!metrics.length) metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  const st = v1.status ?? {};
  const metadata = { ...v1.metadata };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  const fromV1Status = st.currentCPUUtilizationPercentage !== undefined ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: st.currentCPUUtilizationPercentage } } }] : undefined;
  return clean({
    ...v1,
    apiVersion: 'autoscaling/v2',
    metadata,
    spec: { ...spec, metrics, ...(behavior && Object.keys(behavior).length ? { behavior: behaviorFromAnnotation(behavior) } : {}) },
    status: {
      ...(st.observedGeneration !== undefined ? { observedGeneration: st.observedGeneration } : {}),
      ...(st.lastScaleTime ? { lastScaleTime: st.lastScaleTime } : {}),
      currentReplicas: st.currentReplicas ?? 0,
      desiredReplicas: st.desiredReplicas ?? 0,
      ...((currentMetrics ?? fromV1Status) ? { currentMetrics: currentMetrics ?? fromV1Status } : {}),
      ...(Array.isArray(conditions) ? { conditions } : {}),
    },
  });
}

/** kubectl's TARGETS column (printers.go formatHPAMetrics): "cpu: 12%/50%", "memory: 3Mi/100Mi", at most 3 then "+ N more...". */
export function hpaTargets(o: KObject): string {
  const specs: Any[] = o.spec?.metrics ?? [];
  const statuses: Any[] = o.status?.currentMetrics ?? [];
  if (!specs.length) return '<none>';
  const list: string[] = [];
  const max = 2;
  let more = false;
  let count = 0;
  for (const [i, spec] of specs.entries()) {
    const s = statuses[i];
    const src = spec.type === 'ContainerResource' ? spec.containerResource : spec.resource;
    const cur = spec.type === 'ContainerResource' ? s?.containerResource : s?.resource;
    switch (spec.type) {
      case 'Resource':
      case 'ContainerResource': {
        const prefix = spec.type === 'ContainerResource' ? `${src?.name}/${src?.container}` : src?.name;
        if (src?.target?.averageValue !== undefined) {
          list.push(`${prefix}: ${cur?.current?.averageValue ?? '<unknown>'}/${src.target.averageValue}`);
        } else {
          const current = cur?.current?.averageUtilization !== undefined ? `${cur.current.averageUtilization}%` : '<unknown>';
          const target = src?.target?.averageUtilization !== undefined ? `${src.target.averageUtilization}%` : '<auto>';
          list.push(`${prefix}: ${current}/${target}`);
        }
        break;
      }
      case 'Pods':
        list.push(`${s?.pods?.current?.averageValue ?? '<unknown>'}/${spec.pods?.target?.averageValue ?? ''}`);
        break;
      case 'Object': {
        const t = spec.object?.target ?? {};
        const c = s?.object?.current ?? {};
        list.push(t.averageValue !== undefined ? `${c.averageValue ?? '<unknown>'}/${t.averageValue} (avg)` : `${c.value ?? '<unknown>'}/${t.value ?? ''}`);
        break;
      }
      case 'External': {
        const t = spec.external?.target ?? {};
        const c = s?.external?.current ?? {};
        list.push(t.averageValue !== undefined ? `${c.averageValue ?? '<unknown>'}/${t.averageValue} (avg)` : `${c.value ?? '<unknown>'}/${t.value ?? ''}`);
        break;
      }
      default:
        list.push('<unknown type>');
    }
    if (list.length > max) {
      list.length = max;
      more = true;
      break;
    }
    count++;
  }
  const ret = list.join(', ');
  return more ? `${ret} + ${specs.length - count} more...` : ret;
}
