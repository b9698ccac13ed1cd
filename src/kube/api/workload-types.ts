// apps/v1, batch/v1 and autoscaling/v2: the workload kinds and their defaults.
import { define, obj, str, int, int64, bool, arr, loose, intOrStr, strMap } from './schema.js';
import { kindSchema, required, nameColumn, ageColumn, col, selectorString, labelSelector } from './meta.js';
import { podTemplateSpec, defaultPodSpec, validatePodSpec } from './core-pod.js';
import { defineType, ratio } from './define-type.js';
import type { FieldError, KObject } from './resource-type.js';
import { labelSelectorMatches } from './selectors.js';
import { hpaTargets, hpaV1ToV2, hpaV2ToV1 } from './hpa-conversion.js';
import { defaultScaleDown, defaultScaleUp } from './hpa-behavior.js';
import { validateHpa } from './hpa-validation.js';

const gv = (group: string, version: string, kind: string) => ({ group, version, kind });
const schemaOf = (pkg: string, g: string, v: string, kind: string, description: string, fields: Parameters<typeof kindSchema>[3]) => ({
  schemaName: `io.k8s.api.${pkg}.${v}.${kind}`,
  schema: kindSchema(`io.k8s.api.${pkg}.${v}.${kind}`, gv(g, v, kind), description, fields),
});

const containers = (o: KObject) => (o.spec?.template?.spec?.containers ?? o.spec?.jobTemplate?.spec?.template?.spec?.containers ?? []) as any[];
const containerNames = (o: KObject) => containers(o).map((c) => c.name).join(',') || '<none>';
const images = (o: KObject) => containers(o).map((c) => c.image).join(',') || '<none>';
const wideCols = [col('Containers', containerNames, 1), col('Images', images, 1), col('Selector', (o) => selectorString(o.spec?.selector), 1)];

/** Defaults every template-carrying workload shares, plus the selector<->labels check. */
function defaultTemplate(o: KObject): void {
  const t = o.spec?.template;
  if (t && typeof t === 'object') {
    defaultPodSpec(t.spec);
    t.metadata ??= {};
    t.metadata.creationTimestamp ??= null;
  }
}

/** A label map as Go's %#v prints it in a field error: map[string]string{"a":"b", "c":"d"} (keys sorted). */
export function goStringMap(m: Record<string, unknown>): string {
  return `map[string]string{${Object.keys(m).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(String(m[k]))}`).join(', ')}}`;
}

function validateSelectorAndTemplate(o: KObject, needSelector = true, kind = 'deployment'): FieldError[] {
  const errs: FieldError[] = [];
  const sel = o.spec?.selector;
  if (needSelector) errs.push(...required(sel, 'spec.selector'));
  if (sel && !sel.matchLabels && !sel.matchExpressions) errs.push({ field: 'spec.selector', type: 'FieldValueInvalid', message: `Invalid value: empty selector is invalid for ${kind}` });
  const labels = o.spec?.template?.metadata?.labels ?? {};
  // The whole selector (matchExpressions too) must select the template's labels.
  if (sel && (sel.matchLabels || sel.matchExpressions) && !labelSelectorMatches(sel, labels)) {
    errs.push({ field: 'spec.template.metadata.labels', type: 'FieldValueInvalid', message: `Invalid value: ${goStringMap(labels)}: \`selector\` does not match template \`labels\`` });
  }
  errs.push(...validatePodSpec(o.spec?.template?.spec, 'spec.template.spec'));
  return errs;
}

/** apps/v1 and batch/v1 selectors cannot change after creation. */
function immutableSelector(o: KObject, old: KObject | undefined): FieldError[] {
  if (!old || JSON.stringify(o.spec?.selector) === JSON.stringify(old.spec?.selector)) return [];
  return [{ field: 'spec.selector', type: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(o.spec?.selector)}: field is immutable` }];
}

function validateReplicas(o: KObject): FieldError[] {
  const r = o.spec?.replicas;
  return typeof r === 'number' && r < 0 ? [{ field: 'spec.replicas', type: 'FieldValueInvalid', message: `Invalid value: ${r}: must be greater than or equal to 0` }] : [];
}

const scale = { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', selectorPath: 'spec.selector' };

export const deploymentType = defineType({
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  shortNames: ['deploy'],
  categories: ['all'],
  namespaced: true,
  status: true,
  scale,
  ...schemaOf('apps', 'apps', 'v1', 'Deployment', 'Deployment enables declarative updates for Pods and ReplicaSets.', {
    spec: define(
      'io.k8s.api.apps.v1.DeploymentSpec',
      obj(
        {
          replicas: int('Number of desired pods. Defaults to 1.'),
          selector: labelSelector,
          template: podTemplateSpec,
          strategy: define(
            'io.k8s.api.apps.v1.DeploymentStrategy',
            obj(
              {
                type: str('Type of deployment. Can be "Recreate" or "RollingUpdate". Default is RollingUpdate.'),
                rollingUpdate: obj(
                  { maxUnavailable: intOrStr('The maximum number of pods that can be unavailable during the update.'), maxSurge: intOrStr('The maximum number of pods that can be scheduled above the desired number of pods.') },
                  { description: 'Rolling update config params. Present only if DeploymentStrategyType = RollingUpdate.' },
                ),
              },
              { description: 'DeploymentStrategy describes how to replace existing pods with new ones.', patchStrategy: 'retainKeys' },
            ),
          ),
          minReadySeconds: int(),
          revisionHistoryLimit: int('The number of old ReplicaSets to retain to allow rollback. Defaults to 10.'),
          paused: bool('Indicates that the deployment is paused.'),
          progressDeadlineSeconds: int('The maximum time in seconds for a deployment to make progress before it is considered to be failed. Defaults to 600s.'),
        },
        { required: ['selector', 'template'], description: 'DeploymentSpec is the specification of the desired behavior of the Deployment.' },
      ),
    ),
    status: loose('Most recently observed status of the Deployment.'),
  }),
  defaults(o) {
    const s = (o.spec ??= {});
    s.replicas ??= 1;
    s.strategy ??= {};
    s.strategy.type ??= 'RollingUpdate';
    if (s.strategy.type === 'RollingUpdate') {
      s.strategy.rollingUpdate ??= {};
      s.strategy.rollingUpdate.maxUnavailable ??= '25%';
      s.strategy.rollingUpdate.maxSurge ??= '25%';
    }
    s.revisionHistoryLimit ??= 10;
    s.progressDeadlineSeconds ??= 600;
    defaultTemplate(o);
  },
  validate: (o, old) => [...validateReplicas(o), ...validateSelectorAndTemplate(o), ...immutableSelector(o, old)],
  columns: [
    nameColumn,
    col('Ready', (o) => ratio(o.status?.readyReplicas, o.spec?.replicas)),
    col('Up-to-date', (o) => o.status?.updatedReplicas ?? 0, 0, 'integer'),
    col('Available', (o) => o.status?.availableReplicas ?? 0, 0, 'integer'),
    ageColumn,
    ...wideCols,
  ],
});

export const replicaSetType = defineType({
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  shortNames: ['rs'],
  categories: ['all'],
  namespaced: true,
  status: true,
  scale,
  ...schemaOf('apps', 'apps', 'v1', 'ReplicaSet', 'ReplicaSet ensures that a specified number of pod replicas are running at any given time.', {
    spec: obj({ replicas: int(), minReadySeconds: int(), selector: labelSelector, template: podTemplateSpec }, { required: ['selector'] }),
    status: loose(),
  }),
  defaults(o) {
    o.spec ??= {};
    o.spec.replicas ??= 1;
    defaultTemplate(o);
  },
  validate: (o, old) => [...validateReplicas(o), ...validateSelectorAndTemplate(o), ...immutableSelector(o, old)],
  columns: [
    nameColumn,
    col('Desired', (o) => o.spec?.replicas ?? 0, 0, 'integer'),
    col('Current', (o) => o.status?.replicas ?? 0, 0, 'integer'),
    col('Ready', (o) => o.status?.readyReplicas ?? 0, 0, 'integer'),
    ageColumn,
    ...wideCols,
  ],
});

/** ReplicationController's selector is a plain label map, not a LabelSelector. */
function validateRcSelector(o: KObject): FieldError[] {
  const sel: Record<string, string> = o.spec?.selector ?? {};
  if (!Object.keys(sel).length) return [{ field: 'spec.selector', type: 'FieldValueRequired', message: 'Required value' }];
  const labels = o.spec?.template?.metadata?.labels ?? {};
  if (Object.entries(sel).some(([k, v]) => labels[k] !== v)) {
    return [{ field: 'spec.template.metadata.labels', type: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\`` }];
  }
  return validatePodSpec(o.spec?.template?.spec, 'spec.template.spec');
}

export const replicationControllerType = defineType({
  group: '',
  version: 'v1',
  kind: 'ReplicationController',
  plural: 'replicationcontrollers',
  shortNames: ['rc'],
  categories: ['all'],
  namespaced: true,
  status: true,
  scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas' },
  ...schemaOf('core', '', 'v1', 'ReplicationController', 'ReplicationController represents the configuration of a replication controller.', {
    spec: obj({ replicas: int(), minReadySeconds: int(), selector: strMap(), template: podTemplateSpec }),
    status: loose(),
  }),
  // As Kubernetes' SetDefaults_ReplicationController: the selector and the
  // object's labels default to the template's labels.
  defaults(o) {
    const s = (o.spec ??= {});
    s.replicas ??= 1;
    const tplLabels = s.template?.metadata?.labels;
    if (tplLabels && !Object.keys(s.selector ?? {}).length) s.selector = { ...tplLabels };
    o.metadata ??= {};
    if (tplLabels && !Object.keys(o.metadata.labels ?? {}).length) o.metadata.labels = { ...tplLabels };
    defaultTemplate(o);
    if (o.status) o.status.replicas ??= 0;
  },
  validate: (o) => [...validateReplicas(o), ...validateRcSelector(o)],
  columns: [
    nameColumn,
    col('Desired', (o) => o.spec?.replicas ?? 0, 0, 'integer'),
    col('Current', (o) => o.status?.replicas ?? 0, 0, 'integer'),
    col('Ready', (o) => o.status?.readyReplicas ?? 0, 0, 'integer'),
    ageColumn,
    col('Containers', containerNames, 1),
    col('Images', images, 1),
    col('Selector', (o) => Object.entries(o.spec?.selector ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(',') || '<none>', 1),
  ],
});

/** The pod template as the StatefulSet's pods get it: each volumeClaimTemplate is a volume the containers may mount. */
function withClaimVolumes(o: KObject): KObject {
  const spec = o.spec?.template?.spec;
  const claims = ((o.spec?.volumeClaimTemplates ?? []) as KObject[]).map((c) => c?.metadata?.name).filter((n): n is string => typeof n === 'string' && n !== '');
  if (!spec || typeof spec !== 'object' || !claims.length) return o;
  const own = ((spec.volumes ?? []) as { name?: string }[]).filter((v) => !claims.includes(v?.name ?? ''));
  const volumes = [...claims.map((name) => ({ name, persistentVolumeClaim: { claimName: name } })), ...own];
  return { ...o, spec: { ...o.spec, template: { ...o.spec.template, spec: { ...spec, volumes } } } };
}

const notSupported = (field: string, v: unknown, supported: string[]): FieldError => ({ field, type: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(v)}: supported values: ${supported.map((x) => `"${x}"`).join(', ')}` });
const nonNegative = (field: string, v: unknown): FieldError[] => (typeof v === 'number' && v < 0 ? [{ field, type: 'FieldValueInvalid', message: `Invalid value: ${v}: must be greater than or equal to 0` }] : []);

/** What Kubernetes' ValidateStatefulSetSpec and ValidateDaemonSetSpec share: pods that always restart. */
function alwaysRestarts(o: KObject): FieldError[] {
  const rp = o.spec?.template?.spec?.restartPolicy;
  return rp !== undefined && rp !== 'Always' ? [notSupported('spec.template.spec.restartPolicy', rp, ['Always'])] : [];
}

function validateStatefulSetSpec(o: KObject): FieldError[] {
  const s = o.spec ?? {};
  const errs: FieldError[] = [...alwaysRestarts(o), ...nonNegative('spec.minReadySeconds', s.minReadySeconds)];
  if (s.podManagementPolicy !== undefined && !['OrderedReady', 'Parallel'].includes(s.podManagementPolicy)) errs.push(notSupported('spec.podManagementPolicy', s.podManagementPolicy, ['OrderedReady', 'Parallel']));
  const st = s.updateStrategy ?? {};
  if (st.type !== undefined && !['OnDelete', 'RollingUpdate'].includes(st.type)) errs.push(notSupported('spec.updateStrategy.type', st.type, ['OnDelete', 'RollingUpdate']));
  errs.push(...nonNegative('spec.updateStrategy.rollingUpdate.partition', st.rollingUpdate?.partition));
  for (const k of ['whenDeleted', 'whenScaled']) {
    const v = s.persistentVolumeClaimRetentionPolicy?.[k];
    if (v !== undefined && !['Retain', 'Delete'].includes(v)) errs.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${k}`, v, ['Retain', 'Delete']));
  }
  return errs;
}

function validateDaemonSetSpec(o: KObject): FieldError[] {
  const st = o.spec?.updateStrategy ?? {};
  const errs: FieldError[] = [...alwaysRestarts(o), ...nonNegative('spec.minReadySeconds', o.spec?.minReadySeconds)];
  if (st.type !== undefined && !['OnDelete', 'RollingUpdate'].includes(st.type)) errs.push(notSupported('spec.updateStrategy.type', st.type, ['OnDelete', 'RollingUpdate']));
  return errs;
}

export const statefulSetType = defineType({
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  shortNames: ['sts'],
  categories: ['all'],
  namespaced: true,
  status: true,
  scale,
  ...schemaOf('apps', 'apps', 'v1', 'StatefulSet', 'StatefulSet represents a set of pods with consistent identities.', {
    spec: obj(
      {
        replicas: int(),
        selector: labelSelector,
        template: podTemplateSpec,
        volumeClaimTemplates: arr(loose()),
        serviceName: str(),
        podManagementPolicy: str(),
        updateStrategy: loose(),
        revisionHistoryLimit: int(),
        minReadySeconds: int(),
        persistentVolumeClaimRetentionPolicy: loose(),
        ordinals: loose(),
      },
      { required: ['selector', 'template'] },
    ),
    status: loose(),
  }),
  defaults(o) {
    const s = (o.spec ??= {});
    s.replicas ??= 1;
    s.podManagementPolicy ??= 'OrderedReady';
    // As SetDefaults_StatefulSet: a RollingUpdate strategy gets partition 0 (kubectl rollout status reads it).
    s.updateStrategy ??= {};
    s.updateStrategy.type ??= 'RollingUpdate';
    if (s.updateStrategy.type === 'RollingUpdate') {
      s.updateStrategy.rollingUpdate ??= {};
      s.updateStrategy.rollingUpdate.partition ??= 0;
    }
    s.revisionHistoryLimit ??= 10;
    s.persistentVolumeClaimRetentionPolicy ??= { whenDeleted: 'Retain', whenScaled: 'Retain' };
    defaultTemplate(o);
  },
  validate: (o, old) => [...validateReplicas(o), ...validateSelectorAndTemplate(withClaimVolumes(o), true, 'statefulset'), ...validateStatefulSetSpec(o), ...immutableSelector(o, old)],
  columns: [nameColumn, col('Ready', (o) => ratio(o.status?.readyReplicas, o.spec?.replicas)), ageColumn, col('Containers', containerNames, 1), col('Images', images, 1)],
});

export const daemonSetType = defineType({
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  shortNames: ['ds'],
  categories: ['all'],
  namespaced: true,
  status: true,
  ...schemaOf('apps', 'apps', 'v1', 'DaemonSet', 'DaemonSet represents the configuration of a daemon set.', {
    spec: obj({ selector: labelSelector, template: podTemplateSpec, updateStrategy: loose(), minReadySeconds: int(), revisionHistoryLimit: int() }, { required: ['selector', 'template'] }),
    status: loose(),
  }),
  defaults(o) {
    const s = (o.spec ??= {});
    s.updateStrategy ??= {};
    s.updateStrategy.type ??= 'RollingUpdate';
    if (s.updateStrategy.type === 'RollingUpdate') {
      s.updateStrategy.rollingUpdate ??= {};
      s.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
      s.updateStrategy.rollingUpdate.maxSurge ??= 0;
    }
    s.revisionHistoryLimit ??= 10;
    defaultTemplate(o);
    // DaemonSetStatus's four counters are not omitempty in Kubernetes: a new DaemonSet reads back with them at 0.
    if (o.status) for (const k of ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady']) o.status[k] ??= 0;
  },
  validate: (o, old) => [...validateSelectorAndTemplate(o, true, 'daemonset'), ...validateDaemonSetSpec(o), ...immutableSelector(o, old)],
  columns: [
    nameColumn,
    col('Desired', (o) => o.status?.desiredNumberScheduled ?? 0, 0, 'integer'),
    col('Current', (o) => o.status?.currentNumberScheduled ?? 0, 0, 'integer'),
    col('Ready', (o) => o.status?.numberReady ?? 0, 0, 'integer'),
    col('Up-to-date', (o) => o.status?.updatedNumberScheduled ?? 0, 0, 'integer'),
    col('Available', (o) => o.status?.numberAvailable ?? 0, 0, 'integer'),
    col('Node Selector', (o) => Object.entries(o.spec?.template?.spec?.nodeSelector ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(',') || '<none>'),
    ageColumn,
    ...wideCols,
  ],
});

export const controllerRevisionType = defineType({
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  namespaced: true,
  hasSpec: false,
  ...schemaOf('apps', 'apps', 'v1', 'ControllerRevision', 'ControllerRevision implements an immutable snapshot of state data.', { data: loose(), revision: int64() }),
  validate: (o) => required(o.revision, 'revision'),
  columns: [nameColumn, col('Controller', (o) => { const r = (o.metadata?.ownerReferences ?? [])[0]; return r ? `${String(r.kind).toLowerCase()}.${r.apiVersion.split('/')[0]}/${r.name}` : '<none>'; }), col('Revision', (o) => o.revision ?? 0, 0, 'integer'), ageColumn],
});

export const hpaType = defineType({
  group: 'autoscaling',
  version: 'v2',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  shortNames: ['hpa'],
  categories: ['all'],
  namespaced: true,
  status: true,
  ...schemaOf('autoscaling', 'autoscaling', 'v2', 'HorizontalPodAutoscaler', 'HorizontalPodAutoscaler is the configuration for a horizontal pod autoscaler.', {
    spec: obj(
      {
        scaleTargetRef: obj({ apiVersion: str(), kind: str(), name: str() }, { required: ['kind', 'name'] }),
        minReplicas: int(),
        maxReplicas: int(),
        metrics: arr(loose()),
        behavior: loose(),
      },
      { required: ['scaleTargetRef', 'maxReplicas'] },
    ),
    status: loose(),
  }),
  defaults(o) {
    o.spec ??= {};
    o.spec.minReplicas ??= 1;
    // SetDefaults_HorizontalPodAutoscaler: no metrics means 80% CPU; a behavior gets its missing rules and policies.
    if (!o.spec.metrics?.length) o.spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
    if (o.spec.behavior) o.spec.behavior = { scaleUp: defaultScaleUp(o.spec.behavior.scaleUp), scaleDown: defaultScaleDown(o.spec.behavior.scaleDown) };
  },
  validate: (o) => validateHpa(o),
  columns: [
    nameColumn,
    col('Reference', (o) => `${o.spec?.scaleTargetRef?.kind ?? ''}/${o.spec?.scaleTargetRef?.name ?? ''}`),
    col('Targets', hpaTargets),
    col('MinPods', (o) => o.spec?.minReplicas ?? 1, 0, 'integer'),
    col('MaxPods', (o) => o.spec?.maxReplicas ?? 0, 0, 'integer'),
    col('Replicas', (o) => o.status?.currentReplicas ?? 0, 0, 'integer'),
    ageColumn,
  ],
});

/** autoscaling/v1 view of the same stored (v2) HorizontalPodAutoscalers; `kubectl autoscale` writes this one. */
export const hpaV1Type = defineType({
  group: 'autoscaling',
  version: 'v1',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  shortNames: ['hpa'],
  categories: ['all'],
  namespaced: true,
  status: true,
  ...schemaOf('autoscaling', 'autoscaling', 'v1', 'HorizontalPodAutoscaler', 'configuration of a horizontal pod autoscaler.', {
    spec: obj(
      {
        scaleTargetRef: obj({ apiVersion: str(), kind: str(), name: str() }, { required: ['kind', 'name'] }),
        minReplicas: int(),
        maxReplicas: int(),
        targetCPUUtilizationPercentage: int('target average CPU utilization (represented as a percentage of requested CPU) over all the pods.'),
      },
      { required: ['scaleTargetRef', 'maxReplicas'] },
    ),
    status: loose(),
  }),
  defaults(o) {
    o.spec ??= {};
    o.spec.minReplicas ??= 1;
  },
  // Validated as the v2 object it is stored as (Kubernetes validates the internal form, whichever version came in).
  validate: (o) => validateHpa(hpaV1ToV2(o)),
  columns: [
    nameColumn,
    col('Reference', (o) => `${o.spec?.scaleTargetRef?.kind ?? ''}/${o.spec?.scaleTargetRef?.name ?? ''}`),
    col('Targets', (o) => (o.spec?.targetCPUUtilizationPercentage !== undefined ? `${o.status?.currentCPUUtilizationPercentage ?? '<unknown>'}%/${o.spec.targetCPUUtilizationPercentage}%` : '<none>')),
    col('MinPods', (o) => o.spec?.minReplicas ?? 1, 0, 'integer'),
    col('MaxPods', (o) => o.spec?.maxReplicas ?? 0, 0, 'integer'),
    col('Replicas', (o) => o.status?.currentReplicas ?? 0, 0, 'integer'),
    ageColumn,
  ],
  storageResource: 'horizontalpodautoscalers',
  // Everything v1 cannot say rides in annotations, as Kubernetes converts it (hpa-conversion.ts).
  fromStorage: hpaV2ToV1,
  toStorage: hpaV1ToV2,
});
