// autoscaling/v2 HorizontalPodAutoscaler validation with Kubernetes' field
// paths and messages (pkg/apis/autoscaling/validation): replica bounds, the
// scale target reference, each metric source and target, and the behavior's
// windows and policies. The v1 view is validated after its conversion, so
// both versions refuse the same things the same way.
import type { FieldError, KObject } from './resource-type.js';
import { parseQuantity } from './quantity.js';

type Any = Record<string, any>;

const req = (field: string, detail?: string): FieldError => ({ field, type: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value' });
const bad = (field: string, value: unknown, detail: string): FieldError => ({ field, type: 'FieldValueInvalid', message: `Invalid value: ${typeof value === 'string' ? `"${value}"` : String(value)}: ${detail}` });
const unsupported = (field: string, value: unknown, allowed: string[]): FieldError => ({ field, type: 'FieldValueNotSupported', message: `Unsupported value: "${String(value)}": supported values: ${allowed.map((a) => `"${a}"`).join(', ')}` });
const forbidden = (field: string, detail: string): FieldError => ({ field, type: 'FieldValueForbidden', message: `Forbidden: ${detail}` });

const sourceKey: Record<string, string> = { ContainerResource: 'containerResource', External: 'external', Object: 'object', Pods: 'pods', Resource: 'resource' };

function validateTarget(t: Any | undefined, p: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!t?.type) errs.push(req(`${p}.type`, 'must specify a metric target type'));
  else if (!['Utilization', 'Value', 'AverageValue'].includes(t.type)) errs.push(unsupported(`${p}.type`, t.type, ['AverageValue', 'Utilization', 'Value']));
  for (const k of ['value', 'averageValue'] as const) {
    if (t?.[k] === undefined) continue;
    const q = parseQuantity(t[k]);
    if (q === undefined) errs.push(bad(`${p}.${k}`, t[k], 'quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\''));
    else if (q <= 0) errs.push(bad(`${p}.${k}`, t[k], 'must be positive'));
  }
  if (t?.averageUtilization !== undefined && !(t.averageUtilization > 0)) errs.push(bad(`${p}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
  return errs;
}

function validateResource(src: Any, p: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!src.name) errs.push(req(`${p}.name`, 'must specify a resource name'));
  errs.push(...validateTarget(src.target, `${p}.target`));
  if (src.target?.averageUtilization === undefined && src.target?.averageValue === undefined) errs.push(req(`${p}.target.averageUtilization`, 'must set either a target raw value or a target utilization'));
  if (src.target?.averageUtilization !== undefined && src.target?.averageValue !== undefined) errs.push(forbidden(`${p}.target.averageValue`, 'may not set both a target raw value and a target utilization'));
  return errs;
}

function validateMetric(m: Any, p: string): FieldError[] {
  if (!m?.type) return [req(`${p}.type`, 'must specify a metric source type')];
  const key = sourceKey[m.type];
  if (!key) return [unsupported(`${p}.type`, m.type, Object.keys(sourceKey))];
  const errs: FieldError[] = [];
  for (const other of Object.values(sourceKey)) if (other !== key && m[other] !== undefined) errs.push(forbidden(`${p}.${other}`, 'must populate the given metric source only'));
  const src = m[key];
  if (!src) return [...errs, req(`${p}.${key}`, 'must populate information for the given metric source')];
  if (key === 'resource') errs.push(...validateResource(src, `${p}.resource`));
  else if (key === 'containerResource') {
    errs.push(...validateResource(src, `${p}.containerResource`));
    if (!src.container) errs.push(req(`${p}.containerResource.container`, 'must specify a container'));
  } else {
    if (!src.metric?.name) errs.push(req(`${p}.${key}.metric.name`, 'must specify a metric name'));
    errs.push(...validateTarget(src.target, `${p}.${key}.target`));
  }
  return errs;
}

function validateRules(r: Any | undefined, p: string): FieldError[] {
  if (!r) return [];
  const errs: FieldError[] = [];
  const w = r.stabilizationWindowSeconds;
  if (w !== undefined && w !== null) {
    if (w < 0) errs.push(bad(`${p}.stabilizationWindowSeconds`, w, 'must be greater than or equal to zero'));
    else if (w > 3600) errs.push(bad(`${p}.stabilizationWindowSeconds`, w, 'must be less than or equal to 3600'));
  }
  if (r.selectPolicy !== undefined && !['Max', 'Min', 'Disabled'].includes(r.selectPolicy)) errs.push(unsupported(`${p}.selectPolicy`, r.selectPolicy, ['Disabled', 'Max', 'Min']));
  if (Array.isArray(r.policies) && !r.policies.length) errs.push(req(`${p}.policies`, 'must specify at least one Policy'));
  for (const [i, pol] of (r.policies ?? []).entries()) {
    const pp = `${p}.policies[${i}]`;
    if (!['Pods', 'Percent'].includes(pol?.type)) errs.push(unsupported(`${pp}.type`, pol?.type, ['Percent', 'Pods']));
    if (!(pol?.periodSeconds > 0)) errs.push(bad(`${pp}.periodSeconds`, pol?.periodSeconds, 'must be greater than zero'));
    else if (pol.periodSeconds > 1800) errs.push(bad(`${pp}.periodSeconds`, pol.periodSeconds, 'must be less than or equal to 1800'));
    if (!(pol?.value > 0)) errs.push(bad(`${pp}.value`, pol?.value, 'must be greater than zero'));
  }
  return errs;
}

export function validateHpa(o: KObject): FieldError[] {
  const s: Any = o.spec ?? {};
  const errs: FieldError[] = [];
  const ref = s.scaleTargetRef ?? {};
  if (!ref.kind) errs.push(req('spec.scaleTargetRef.kind'));
  if (!ref.name) errs.push(req('spec.scaleTargetRef.name'));
  else if (ref.name.includes('/') || ref.name === '.' || ref.name === '..') errs.push(bad('spec.scaleTargetRef.name', ref.name, 'may not contain \'/\''));
  if (s.minReplicas !== undefined && s.minReplicas !== null && s.minReplicas < 1) errs.push(bad('spec.minReplicas', s.minReplicas, 'must be greater than or equal to 1'));
  if (s.maxReplicas === undefined || s.maxReplicas === null) errs.push(req('spec.maxReplicas'));
  else if (s.maxReplicas < 1) errs.push(bad('spec.maxReplicas', s.maxReplicas, 'must be greater than 0'));
  else if (s.minReplicas !== undefined && s.minReplicas !== null && s.maxReplicas < s.minReplicas) errs.push(bad('spec.maxReplicas', s.maxReplicas, 'must be greater than or equal to `minReplicas`'));
  for (const [i, m] of (s.metrics ?? []).entries()) errs.push(...validateMetric(m, `spec.metrics[${i}]`));
  errs.push(...validateRules(s.behavior?.scaleUp, 'spec.behavior.scaleUp'), ...validateRules(s.behavior?.scaleDown, 'spec.behavior.scaleDown'));
  return errs;
}
