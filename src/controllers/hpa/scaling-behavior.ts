// What the autoscaler may do with a recommendation, as kube-controller-
// manager normalizes it:
// - without spec.behavior: the highest recommendation of the downscale
//   stabilization window (default 5 min) wins, and one step may at most
//   double the replicas (or reach 4); min/max clamp;
// - with spec.behavior: stabilization windows both ways (scale-up takes the
//   lowest recommendation of its window, scale-down the highest of its), then
//   the scaling policies (Pods / Percent per periodSeconds, selectPolicy Max,
//   Min or Disabled) limit the change against the replicas at the start of
//   each policy's period, counted from the scale events remembered here.
// The memory (recommendations, scale events) is per HPA key and lives in the
// controller process, as in Kubernetes: a restart forgets it, which only
// makes the next decisions less stabilized. Time is passed in for tests.

import type { ScalingRules } from '../../kube/api/hpa-behavior.js';
export { defaultScaleDown, defaultScaleUp, type Behavior, type ScalingRules } from '../../kube/api/hpa-behavior.js';

export interface Condition {
  reason: string;
  message: string;
}

export interface Normalized {
  replicas: number;
  /** AbleToScale (True) reason and message. */
  ableToScale: Condition;
  /** ScalingLimited: limited is its status. */
  limited: boolean;
  scalingLimited: Condition;
}

interface Recommendation {
  replicas: number;
  at: number;
}

interface ScaleEvent {
  change: number;
  at: number;
}

/** Sum of the replica changes within the last periodSeconds. */
function changeInPeriod(events: ScaleEvent[], periodSeconds: number, now: number): number {
  const cutoff = now - periodSeconds * 1000;
  return events.filter((e) => e.at > cutoff).reduce((n, e) => n + e.change, 0);
}

export function scaleUpLimit(current: number, ups: ScaleEvent[], downs: ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pickMin = rules.selectPolicy === 'Min';
  let result = pickMin ? Infinity : -Infinity;
  for (const p of rules.policies ?? []) {
    const periodStart = current - changeInPeriod(ups, p.periodSeconds, now) + changeInPeriod(downs, p.periodSeconds, now);
    const proposed = p.type === 'Pods' ? periodStart + p.value : Math.ceil(periodStart * (1 + p.value / 100));
    result = pickMin ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

export function scaleDownLimit(current: number, ups: ScaleEvent[], downs: ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pickMin = rules.selectPolicy === 'Min';
  let result = pickMin ? -Infinity : Infinity;
  for (const p of rules.policies ?? []) {
    const periodStart = current - changeInPeriod(ups, p.periodSeconds, now) + changeInPeriod(downs, p.periodSeconds, now);
    const proposed = p.type === 'Pods' ? periodStart - p.value : Math.trunc(periodStart * (1 - p.value / 100));
    result = pickMin ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

const withinRange: Condition = { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
const readyForNewScale: Condition = { reason: 'ReadyForNewScale', message: 'recommended size matches current size' };

export class ScalingHistory {
  private readonly recommendations = new Map<string, Recommendation[]>();
  private readonly ups = new Map<string, ScaleEvent[]>();
  private readonly downs = new Map<string, ScaleEvent[]>();

  constructor(private readonly downscaleStabilizationMs: number) {}

  forget(key: string): void {
    this.recommendations.delete(key);
    this.ups.delete(key);
    this.downs.delete(key);
  }

  /** The first sight of an HPA counts its current replicas as a recommendation (so a restart does not scale down at once). */
  recordInitial(key: string, current: number, now: number): void {
    if (!this.recommendations.has(key)) this.recommendations.set(key, [{ replicas: current, at: now }]);
  }

  /** Without spec.behavior (autoscaling/v1, or v2 without it). */
  normalize(key: string, current: number, desired: number, min: number, max: number, now: number): Normalized {
    const cutoff = now - this.downscaleStabilizationMs;
    const recs = (this.recommendations.get(key) ?? []).filter((r) => r.at >= cutoff);
    const stabilized = Math.max(desired, ...recs.map((r) => r.replicas));
    recs.push({ replicas: desired, at: now });
    this.recommendations.set(key, recs);
    const ableToScale = stabilized !== desired ? { reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' } : readyForNewScale;
    // One step at most doubles the replicas (or reaches 4): a bogus usage spike cannot explode a deployment.
    const upLimit = Math.max(2 * current, 4);
    let limit: Condition;
    let maxAllowed: number;
    if (max > upLimit) {
      maxAllowed = upLimit;
      limit = { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' };
    } else {
      maxAllowed = max;
      limit = { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
    }
    if (stabilized < min) return { replicas: min, ableToScale, limited: true, scalingLimited: { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' } };
    if (stabilized > maxAllowed) return { replicas: maxAllowed, ableToScale, limited: true, scalingLimited: limit };
    return { replicas: stabilized, ableToScale, limited: false, scalingLimited: withinRange };
  }

  /** With spec.behavior (defaults filled in by the caller). */
  normalizeWithBehavior(key: string, current: number, desired: number, min: number, max: number, behavior: { scaleUp: ScalingRules; scaleDown: ScalingRules }, now: number): Normalized {
    const upWindow = (behavior.scaleUp.stabilizationWindowSeconds ?? 0) * 1000;
    const downWindow = behavior.scaleDown.stabilizationWindowSeconds !== undefined ? behavior.scaleDown.stabilizationWindowSeconds * 1000 : this.downscaleStabilizationMs;
    let upRec = desired;
    let downRec = desired;
    const recs = this.recommendations.get(key) ?? [];
    for (const r of recs) {
      if (r.at > now - upWindow) upRec = Math.min(upRec, r.replicas);
      if (r.at > now - downWindow) downRec = Math.max(downRec, r.replicas);
    }
    const keepFrom = now - Math.max(upWindow, downWindow);
    this.recommendations.set(key, [...recs.filter((r) => r.at >= keepFrom), { replicas: desired, at: now }]);
    // Within [lowest recent (up window), highest recent (down window)], as close to current as that allows.
    const stabilized = Math.min(Math.max(current, upRec), downRec);
    const ableToScale =
      stabilized === desired
        ? readyForNewScale
        : desired >= current
          ? { reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
          : { reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
    const ups = this.ups.get(key) ?? [];
    const downs = this.downs.get(key) ?? [];
    if (stabilized > current) {
      const limit = Math.max(current, scaleUpLimit(current, ups, downs, behavior.scaleUp, now));
      const c: Condition =
        max > limit ? { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' } : { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
      const allowed = Math.min(max, limit);
      if (stabilized > allowed) return { replicas: allowed, ableToScale, limited: true, scalingLimited: c };
    } else if (stabilized < current) {
      const limit = Math.min(current, scaleDownLimit(current, ups, downs, behavior.scaleDown, now));
      const c: Condition =
        min < limit ? { reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' } : { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
      const allowed = Math.max(min, limit);
      if (stabilized < allowed) return { replicas: allowed, ableToScale, limited: true, scalingLimited: c };
    }
    return { replicas: stabilized, ableToScale, limited: false, scalingLimited: withinRange };
  }

  /** Remembers a rescale for the policies' periods (only HPAs with a behavior use them). */
  recordScale(key: string, from: number, to: number, behavior: { scaleUp: ScalingRules; scaleDown: ScalingRules } | undefined, now: number): void {
    if (!behavior) return;
    const up = to > from;
    const rules = up ? behavior.scaleUp : behavior.scaleDown;
    const longest = Math.max(0, ...(rules.policies ?? []).map((p) => p.periodSeconds));
    const map = up ? this.ups : this.downs;
    const kept = (map.get(key) ?? []).filter((e) => e.at >= now - longest * 1000);
    kept.push({ change: Math.abs(to - from), at: now });
    map.set(key, kept);
  }
}
