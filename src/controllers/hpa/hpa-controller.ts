// HorizontalPodAutoscaler controller (autoscaling/v2; v1 objects are the
// same stored objects): every sync period each HPA is reconciled as
// kube-controller-manager's podautoscaler does: read the target's scale
// subresource, compute the replicas each metric asks for from
// metrics.k8s.io (the highest wins), stabilize and limit them (spec.behavior,
// or the classic 5-minute downscale window), write the new size through the
// scale subresource, and write status (currentReplicas, desiredReplicas,
// currentMetrics, lastScaleTime, and the AbleToScale / ScalingActive /
// ScalingLimited conditions with Kubernetes' reasons) back. Level-triggered:
// each pass starts from the informer's HPA and the API's scale, so a restart
// only forgets the stabilization memory.
import type { KubeClient, KubeObject } from '../../kube/client/kube-client.js';
import { keyOf } from '../../kube/client/informer.js';
import { WorkQueue } from '../../kube/client/work-queue.js';
import { refs, type SharedInformers } from '../../kube/client/shared-informers.js';
import { labelPredicate } from '../../kube/api/selectors.js';
import { messageOf } from '../../errdefs.js';
import { nowIso } from '../pod-state.js';
import { HpaEvents } from './hpa-events.js';
import { ScaleTargets, type ScaleTarget } from './scale-target.js';
import { MetricError, resourceMetricReplicas, type MetricSpec } from './resource-metric.js';
import { ScalingHistory, defaultScaleDown, defaultScaleUp, type Behavior } from './scaling-behavior.js';
import { DEFAULT_TOLERANCE } from './replica-calculator.js';

export const hpaRef = { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' };

/** Kubernetes syncs every 15 s; tug every second by default, so scale-out follows load within seconds (`tug server --horizontal-pod-autoscaler-sync-period`). */
export const DEFAULT_HPA_SYNC_PERIOD_MS = 1000;
/** --horizontal-pod-autoscaler-downscale-stabilization: Kubernetes' default, 5 minutes. */
export const DEFAULT_DOWNSCALE_STABILIZATION_MS = 300_000;

export interface HpaControllerOptions {
  syncPeriodMs?: number;
  downscaleStabilizationMs?: number;
  tolerance?: number;
}

interface Condition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason: string;
  message: string;
}

/** Sets a condition, keeping its lastTransitionTime when the status did not change (as setConditionInList). */
function setCondition(list: Condition[], type: string, status: 'True' | 'False', reason: string, message: string): void {
  const existing = list.find((c) => c.type === type);
  if (existing) {
    if (existing.status !== status) existing.lastTransitionTime = nowIso();
    Object.assign(existing, { status, reason, message });
  } else list.push({ type, status, lastTransitionTime: nowIso(), reason, message });
}

const defaultMetrics: MetricSpec[] = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];

interface Status {
  currentReplicas: number;
  desiredReplicas: number;
  currentMetrics?: Record<string, unknown>[];
  lastScaleTime?: string;
  conditions: Condition[];
}

export class HorizontalPodAutoscalerController {
  readonly queue: WorkQueue;
  private readonly syncPeriodMs: number;
  private readonly history: ScalingHistory;
  private readonly events: HpaEvents;
  private readonly targets: ScaleTargets;
  private readonly tolerance: number;

  constructor(
    private readonly informers: SharedInformers,
    private readonly client: KubeClient,
    opts: HpaControllerOptions = {},
  ) {
    this.syncPeriodMs = opts.syncPeriodMs ?? DEFAULT_HPA_SYNC_PERIOD_MS;
    this.tolerance = opts.tolerance ?? DEFAULT_TOLERANCE;
    this.history = new ScalingHistory(opts.downscaleStabilizationMs ?? DEFAULT_DOWNSCALE_STABILIZATION_MS);
    this.events = new HpaEvents(client);
    this.targets = new ScaleTargets(client);
    this.queue = new WorkQueue({ name: 'horizontalpodautoscaler', baseDelayMs: this.syncPeriodMs, maxDelayMs: Math.max(this.syncPeriodMs, 30_000) });
    informers.for(hpaRef).addHandlers({
      onAdd: (o) => this.queue.add(keyOf(o)),
      // Our own status writes come back as updates: only a spec change is worth an early pass.
      onUpdate: (o, old) => {
        if (o.metadata.generation !== old.metadata.generation) this.queue.add(keyOf(o));
      },
      onDelete: (o) => {
        this.history.forget(keyOf(o));
        this.events.forget(o.metadata.uid);
      },
    });
    informers.for(refs.pods);
  }

  run(workers = 2): void {
    void this.queue.run((k) => this.reconcile(k), workers, (k, err) => process.stderr.write(`horizontal-pod-autoscaler: ${k}: ${messageOf(err)}\n`));
  }

  stop(): void {
    this.queue.shutdown();
  }

  async reconcile(key: string): Promise<void> {
    const hpa = this.informers.for(hpaRef).get(key);
    if (!hpa) {
      this.history.forget(key);
      return;
    }
    // Every HPA comes back each sync period, whatever this pass does.
    this.queue.addAfter(key, this.syncPeriodMs);
    await this.sync(key, hpa);
  }

  private async sync(key: string, hpa: KubeObject): Promise<void> {
    const spec = hpa.spec ?? {};
    const ns = hpa.metadata.namespace!;
    const original = hpa.status ?? {};
    const st: Status = {
      currentReplicas: original.currentReplicas ?? 0,
      desiredReplicas: original.desiredReplicas ?? 0,
      currentMetrics: original.currentMetrics ?? undefined,
      lastScaleTime: original.lastScaleTime ?? undefined,
      conditions: structuredClone(original.conditions ?? []),
    };
    const ref = spec.scaleTargetRef ?? {};
    const reference = `${ref.kind}/${ns}/${ref.name}`;

    let target: ScaleTarget;
    let scale: KubeObject;
    try {
      target = await this.targets.resolve(ns, ref);
      scale = await this.targets.get(target);
    } catch (err) {
      const msg = messageOf(err);
      this.events.record(hpa, 'Warning', 'FailedGetScale', msg);
      setCondition(st.conditions, 'AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${msg}`);
      await this.writeStatus(hpa, original, st);
      return;
    }
    setCondition(st.conditions, 'AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");
    const now = Date.now();
    const current = Number(scale.spec?.replicas ?? 0);
    this.history.recordInitial(key, current, now);
    const min = spec.minReplicas ?? 1;
    const max = spec.maxReplicas;
    const behavior = spec.behavior ? { scaleUp: defaultScaleUp((spec.behavior as Behavior).scaleUp), scaleDown: defaultScaleDown((spec.behavior as Behavior).scaleDown) } : undefined;

    let desired = 0;
    let reason = '';
    let rescale = true;
    let statuses: Record<string, unknown>[] | undefined;
    if (current === 0 && min !== 0) {
      rescale = false;
      setCondition(st.conditions, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (current > max) {
      reason = 'Current number of replicas above Spec.MaxReplicas';
      desired = max;
    } else if (current < min) {
      reason = 'Current number of replicas below Spec.MinReplicas';
      desired = min;
    } else {
      const r = await this.replicasForMetrics(hpa, scale, current, st);
      statuses = r.statuses;
      if (r.replicas === -1) {
        st.currentReplicas = current;
        st.currentMetrics = statuses;
        await this.writeStatus(hpa, original, st);
        if (r.error) this.events.record(hpa, 'Warning', 'FailedComputeMetricsReplicas', r.error);
        return;
      }
      desired = r.replicas;
      if (desired > current) reason = `${r.metricName} above target`;
      if (desired < current) reason = 'All metrics below target';
      const n = behavior ? this.history.normalizeWithBehavior(key, current, desired, min, max, behavior, now) : this.history.normalize(key, current, desired, min, max, now);
      setCondition(st.conditions, 'AbleToScale', 'True', n.ableToScale.reason, n.ableToScale.message);
      setCondition(st.conditions, 'ScalingLimited', n.limited ? 'True' : 'False', n.scalingLimited.reason, n.scalingLimited.message);
      desired = n.replicas;
      rescale = desired !== current;
    }

    if (rescale) {
      try {
        await this.targets.update(target, scale, desired);
      } catch (err) {
        const msg = messageOf(err);
        this.events.record(hpa, 'Warning', 'FailedRescale', `New size: ${desired}; reason: ${reason}; error: ${msg}`);
        setCondition(st.conditions, 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${msg}`);
        st.currentReplicas = current;
        st.currentMetrics = statuses;
        await this.writeStatus(hpa, original, st);
        throw new Error(`failed to rescale ${reference}: ${msg}`);
      }
      setCondition(st.conditions, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`);
      this.events.record(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${reason}`);
      this.history.recordScale(key, current, desired, behavior, now);
      st.lastScaleTime = nowIso();
    } else desired = current;
    st.currentReplicas = current;
    st.desiredReplicas = desired;
    st.currentMetrics = statuses;
    await this.writeStatus(hpa, original, st);
  }

  /** The highest replica count any metric asks for; -1 when none can be computed (or some fail and the rest would scale down). */
  private async replicasForMetrics(hpa: KubeObject, scale: KubeObject, current: number, st: Status): Promise<{ replicas: number; metricName: string; statuses?: Record<string, unknown>[]; error?: string }> {
    const selector: string = scale.status?.selector ?? '';
    if (!selector) {
      this.events.record(hpa, 'Warning', 'SelectorRequired', 'selector is required');
      setCondition(st.conditions, 'ScalingActive', 'False', 'InvalidSelector', "the HPA target's scale is missing a selector");
      return { replicas: -1, metricName: '', error: 'selector is required' };
    }
    let matches;
    try {
      matches = labelPredicate(selector)!;
    } catch (err) {
      const msg = `couldn't convert selector into a corresponding internal selector object: ${messageOf(err)}`;
      this.events.record(hpa, 'Warning', 'InvalidSelector', msg);
      setCondition(st.conditions, 'ScalingActive', 'False', 'InvalidSelector', msg);
      return { replicas: -1, metricName: '', error: msg };
    }
    const ns = hpa.metadata.namespace!;
    const pods = this.informers.for(refs.pods).list().filter((p) => p.metadata.namespace === ns && matches(p));
    const specs: MetricSpec[] = hpa.spec?.metrics?.length ? hpa.spec.metrics : defaultMetrics;
    // One status per metric, in order; a metric that failed leaves an empty one, as Kubernetes' status shows.
    const statuses: Record<string, unknown>[] = specs.map(() => ({ type: '' }));
    let replicas = 0;
    let metricName = '';
    let invalid = 0;
    let first: MetricError | undefined;
    for (const [i, spec] of specs.entries()) {
      try {
        if (spec.type !== 'Resource' && spec.type !== 'ContainerResource') throw unsupported(spec);
        const r = await resourceMetricReplicas(this.client, ns, selector, spec, current, pods, { tolerance: this.tolerance });
        statuses[i] = r.status;
        if (replicas === 0 || r.replicas > replicas) {
          replicas = r.replicas;
          metricName = r.metricName;
        }
      } catch (err) {
        const e = err instanceof MetricError ? err : new MetricError('FailedGetResourceMetric', messageOf(err), messageOf(err));
        if (!invalid) first = e;
        invalid++;
      }
    }
    if (first) {
      const error = `invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${first.wrapped}`;
      if (invalid >= specs.length || replicas < current) {
        this.events.record(hpa, 'Warning', first.reason, first.message);
        setCondition(st.conditions, 'ScalingActive', 'False', first.reason, `the HPA was unable to compute the replica count: ${first.message}`);
        return { replicas: -1, metricName: '', statuses, error };
      }
    }
    setCondition(st.conditions, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${metricName}`);
    return { replicas, metricName, statuses };
  }

  /** Writes status when it changed (a merge patch: lists are replaced whole, absent fields removed). */
  private async writeStatus(hpa: KubeObject, original: Record<string, unknown>, st: Status): Promise<void> {
    const next: Record<string, unknown> = {
      currentReplicas: st.currentReplicas,
      desiredReplicas: st.desiredReplicas,
      currentMetrics: st.currentMetrics ?? null,
      lastScaleTime: st.lastScaleTime ?? null,
      conditions: st.conditions,
    };
    const comparable = (s: Record<string, unknown>) => JSON.stringify([s.currentReplicas ?? 0, s.desiredReplicas ?? 0, s.currentMetrics ?? null, s.lastScaleTime ?? null, s.conditions ?? []]);
    if (comparable(original) === comparable(next)) return;
    await this.client.patch({ ...hpaRef, namespace: hpa.metadata.namespace }, hpa.metadata.name!, { status: next }, { subresource: 'status' });
  }
}

function unsupported(spec: MetricSpec): MetricError {
  const reasons: Record<string, [string, string]> = {
    Pods: ['FailedGetPodsMetric', `unable to get metric ${spec.pods?.metric?.name}: no custom metrics API (custom.metrics.k8s.io) is served`],
    Object: ['FailedGetObjectMetric', `unable to get metric ${spec.object?.metric?.name}: no custom metrics API (custom.metrics.k8s.io) is served`],
    External: ['FailedGetExternalMetric', `unable to get external metric ${spec.external?.metric?.name}: no external metrics API (external.metrics.k8s.io) is served`],
  };
  const [reason, msg] = reasons[spec.type] ?? ['InvalidMetricSourceType', `unknown metric source type "${spec.type}"`];
  return new MetricError(reason, msg, msg);
}
