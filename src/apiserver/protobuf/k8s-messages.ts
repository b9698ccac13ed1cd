// Field numbers of the Kubernetes protobuf messages kubectl's typed clients
// send when creating objects (kubectl create <kind>, run, auth can-i...).
// Each entry: field number -> [json name, type, repeated?]. Types are scalars
// ('string' | 'int' | 'bool' | 'bytes'), maps ('map:string' | 'map:bytes' |
// 'map:Quantity') or another message name here. Fields not listed are dropped.
export type FieldType = 'string' | 'int' | 'bool' | 'bytes' | 'map:string' | 'map:bytes' | 'map:Quantity' | string;
export type MessageDef = Record<number, [name: string, type: FieldType, repeated?: true]>;

const meta = (specType?: string, statusType?: string): MessageDef => {
  const def: MessageDef = { 1: ['metadata', 'ObjectMeta'] };
  if (specType) def[2] = ['spec', specType];
  if (statusType) def[3] = ['status', statusType];
  return def;
};

/**
 * Go pointer fields: present on the wire only when set, so a zero value is
 * meaningful (replicas: 0, enableServiceLinks: false). Every other scalar is
 * always on the wire and its zero value means "unset", as omitempty in JSON.
 */
export const pointerFields = new Set([
  'replicas', 'automountServiceAccountToken', 'enableServiceLinks', 'immutable', 'suspend', 'parallelism', 'completions',
  'backoffLimit', 'activeDeadlineSeconds', 'terminationGracePeriodSeconds', 'revisionHistoryLimit', 'progressDeadlineSeconds',
  'deletionGracePeriodSeconds', 'controller', 'blockOwnerDeletion', 'priority', 'shareProcessNamespace', 'startingDeadlineSeconds',
  'successfulJobsHistoryLimit', 'failedJobsHistoryLimit', 'ttlSecondsAfterFinished', 'manualSelector', 'allocateLoadBalancerNodePorts',
  'tolerationSeconds', 'timeZone', 'completionMode', 'loadBalancerClass', 'internalTrafficPolicy', 'ipFamilyPolicy', 'preemptionPolicy',
  'runtimeClassName', 'restartPolicy:Container', 'expirationSeconds', 'value', 'minReplicas', 'targetCPUUtilizationPercentage', 'uid:Preconditions', 'resourceVersion:Preconditions',
]);

export const messages: Record<string, MessageDef> = {
  // k8s.io/apimachinery/pkg/apis/meta/v1
  ObjectMeta: {
    1: ['name', 'string'],
    2: ['generateName', 'string'],
    3: ['namespace', 'string'],
    4: ['selfLink', 'string'],
    5: ['uid', 'string'],
    6: ['resourceVersion', 'string'],
    7: ['generation', 'int'],
    8: ['creationTimestamp', 'Time'],
    9: ['deletionTimestamp', 'Time'],
    10: ['deletionGracePeriodSeconds', 'int'],
    11: ['labels', 'map:string'],
    12: ['annotations', 'map:string'],
    13: ['ownerReferences', 'OwnerReference', true],
    14: ['finalizers', 'string', true],
    17: ['managedFields', 'ManagedFieldsEntry', true],
  },
  OwnerReference: { 1: ['kind', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'], 5: ['apiVersion', 'string'], 6: ['controller', 'bool'], 7: ['blockOwnerDeletion', 'bool'] },
  ManagedFieldsEntry: { 1: ['manager', 'string'], 2: ['operation', 'string'], 3: ['apiVersion', 'string'], 4: ['time', 'Time'], 6: ['fieldsType', 'string'], 7: ['fieldsV1', 'FieldsV1'], 8: ['subresource', 'string'] },
  LabelSelector: { 1: ['matchLabels', 'map:string'], 2: ['matchExpressions', 'LabelSelectorRequirement', true] },
  LabelSelectorRequirement: { 1: ['key', 'string'], 2: ['operator', 'string'], 3: ['values', 'string', true] },

  // core/v1
  Namespace: meta('NamespaceSpec', 'NamespaceStatus'),
  NamespaceSpec: { 1: ['finalizers', 'string', true] },
  NamespaceStatus: { 1: ['phase', 'string'] },
  ConfigMap: { 1: ['metadata', 'ObjectMeta'], 2: ['data', 'map:string'], 3: ['binaryData', 'map:bytes'], 4: ['immutable', 'bool'] },
  Secret: { 1: ['metadata', 'ObjectMeta'], 2: ['data', 'map:bytes'], 3: ['type', 'string'], 4: ['stringData', 'map:string'], 5: ['immutable', 'bool'] },
  ServiceAccount: { 1: ['metadata', 'ObjectMeta'], 2: ['secrets', 'ObjectReference', true], 3: ['imagePullSecrets', 'LocalObjectReference', true], 4: ['automountServiceAccountToken', 'bool'] },
  ObjectReference: { 1: ['kind', 'string'], 2: ['namespace', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'], 5: ['apiVersion', 'string'], 6: ['resourceVersion', 'string'], 7: ['fieldPath', 'string'] },
  LocalObjectReference: { 1: ['name', 'string'] },
  Service: meta('ServiceSpec', 'Empty'),
  ServiceSpec: {
    1: ['ports', 'ServicePort', true],
    2: ['selector', 'map:string'],
    3: ['clusterIP', 'string'],
    4: ['type', 'string'],
    5: ['externalIPs', 'string', true],
    7: ['sessionAffinity', 'string'],
    8: ['loadBalancerIP', 'string'],
    9: ['loadBalancerSourceRanges', 'string', true],
    10: ['externalName', 'string'],
    11: ['externalTrafficPolicy', 'string'],
    12: ['healthCheckNodePort', 'int'],
    13: ['publishNotReadyAddresses', 'bool'],
    17: ['ipFamilyPolicy', 'string'],
    18: ['clusterIPs', 'string', true],
    19: ['ipFamilies', 'string', true],
    20: ['allocateLoadBalancerNodePorts', 'bool'],
    21: ['loadBalancerClass', 'string'],
    22: ['internalTrafficPolicy', 'string'],
  },
  ServicePort: { 1: ['name', 'string'], 2: ['protocol', 'string'], 3: ['port', 'int'], 4: ['targetPort', 'IntOrString'], 5: ['nodePort', 'int'], 6: ['appProtocol', 'string'] },
  Pod: meta('PodSpec', 'Empty'),
  PodTemplateSpec: meta('PodSpec'),
  PodSpec: {
    1: ['volumes', 'Volume', true],
    2: ['containers', 'Container', true],
    3: ['restartPolicy', 'string'],
    4: ['terminationGracePeriodSeconds', 'int'],
    5: ['activeDeadlineSeconds', 'int'],
    6: ['dnsPolicy', 'string'],
    7: ['nodeSelector', 'map:string'],
    8: ['serviceAccountName', 'string'],
    9: ['serviceAccount', 'string'],
    10: ['nodeName', 'string'],
    11: ['hostNetwork', 'bool'],
    12: ['hostPID', 'bool'],
    13: ['hostIPC', 'bool'],
    15: ['imagePullSecrets', 'LocalObjectReference', true],
    16: ['hostname', 'string'],
    17: ['subdomain', 'string'],
    19: ['schedulerName', 'string'],
    20: ['initContainers', 'Container', true],
    21: ['automountServiceAccountToken', 'bool'],
    22: ['tolerations', 'Toleration', true],
    24: ['priorityClassName', 'string'],
    25: ['priority', 'int'],
    27: ['shareProcessNamespace', 'bool'],
    29: ['runtimeClassName', 'string'],
    30: ['enableServiceLinks', 'bool'],
    31: ['preemptionPolicy', 'string'],
  },
  Volume: { 1: ['name', 'string'] },
  Container: {
    1: ['name', 'string'],
    2: ['image', 'string'],
    3: ['command', 'string', true],
    4: ['args', 'string', true],
    5: ['workingDir', 'string'],
    6: ['ports', 'ContainerPort', true],
    7: ['env', 'EnvVar', true],
    8: ['resources', 'ResourceRequirements'],
    9: ['volumeMounts', 'VolumeMount', true],
    13: ['terminationMessagePath', 'string'],
    14: ['imagePullPolicy', 'string'],
    16: ['stdin', 'bool'],
    17: ['stdinOnce', 'bool'],
    18: ['tty', 'bool'],
    20: ['terminationMessagePolicy', 'string'],
    24: ['restartPolicy', 'string'],
  },
  ContainerPort: { 1: ['name', 'string'], 2: ['hostPort', 'int'], 3: ['containerPort', 'int'], 4: ['protocol', 'string'], 5: ['hostIP', 'string'] },
  EnvVar: { 1: ['name', 'string'], 2: ['value', 'string'] },
  ResourceRequirements: { 1: ['limits', 'map:Quantity'], 2: ['requests', 'map:Quantity'] },
  VolumeMount: { 1: ['name', 'string'], 2: ['readOnly', 'bool'], 3: ['mountPath', 'string'], 4: ['subPath', 'string'], 5: ['mountPropagation', 'string'], 6: ['subPathExpr', 'string'] },
  Toleration: { 1: ['key', 'string'], 2: ['operator', 'string'], 3: ['value', 'string'], 4: ['effect', 'string'], 5: ['tolerationSeconds', 'int'] },
  ResourceQuota: meta('ResourceQuotaSpec', 'Empty'),
  ResourceQuotaSpec: { 1: ['hard', 'map:Quantity'], 2: ['scopes', 'string', true] },
  Empty: {},

  // apps/v1
  Deployment: meta('DeploymentSpec', 'Empty'),
  DeploymentSpec: {
    1: ['replicas', 'int'],
    2: ['selector', 'LabelSelector'],
    3: ['template', 'PodTemplateSpec'],
    4: ['strategy', 'DeploymentStrategy'],
    5: ['minReadySeconds', 'int'],
    6: ['revisionHistoryLimit', 'int'],
    7: ['paused', 'bool'],
    9: ['progressDeadlineSeconds', 'int'],
  },
  DeploymentStrategy: { 1: ['type', 'string'], 2: ['rollingUpdate', 'RollingUpdateDeployment'] },
  RollingUpdateDeployment: { 1: ['maxUnavailable', 'IntOrString'], 2: ['maxSurge', 'IntOrString'] },

  // batch/v1
  Job: meta('JobSpec', 'Empty'),
  JobSpec: {
    1: ['parallelism', 'int'],
    2: ['completions', 'int'],
    3: ['activeDeadlineSeconds', 'int'],
    4: ['selector', 'LabelSelector'],
    5: ['manualSelector', 'bool'],
    6: ['template', 'PodTemplateSpec'],
    7: ['backoffLimit', 'int'],
    8: ['ttlSecondsAfterFinished', 'int'],
    9: ['completionMode', 'string'],
    10: ['suspend', 'bool'],
  },
  CronJob: meta('CronJobSpec', 'Empty'),
  CronJobSpec: {
    1: ['schedule', 'string'],
    2: ['startingDeadlineSeconds', 'int'],
    3: ['concurrencyPolicy', 'string'],
    4: ['suspend', 'bool'],
    5: ['jobTemplate', 'JobTemplateSpec'],
    6: ['successfulJobsHistoryLimit', 'int'],
    7: ['failedJobsHistoryLimit', 'int'],
    8: ['timeZone', 'string'],
  },
  JobTemplateSpec: meta('JobSpec'),

  // rbac.authorization.k8s.io/v1
  Role: { 1: ['metadata', 'ObjectMeta'], 2: ['rules', 'PolicyRule', true] },
  ClusterRole: { 1: ['metadata', 'ObjectMeta'], 2: ['rules', 'PolicyRule', true] },
  PolicyRule: { 1: ['verbs', 'string', true], 2: ['apiGroups', 'string', true], 3: ['resources', 'string', true], 4: ['resourceNames', 'string', true], 5: ['nonResourceURLs', 'string', true] },
  RoleBinding: { 1: ['metadata', 'ObjectMeta'], 2: ['subjects', 'Subject', true], 3: ['roleRef', 'RoleRef'] },
  ClusterRoleBinding: { 1: ['metadata', 'ObjectMeta'], 2: ['subjects', 'Subject', true], 3: ['roleRef', 'RoleRef'] },
  Subject: { 1: ['kind', 'string'], 2: ['apiGroup', 'string'], 3: ['name', 'string'], 4: ['namespace', 'string'] },
  RoleRef: { 1: ['apiGroup', 'string'], 2: ['kind', 'string'], 3: ['name', 'string'] },

  // authorization.k8s.io/v1, authentication.k8s.io/v1
  SelfSubjectAccessReview: meta('SelfSubjectAccessReviewSpec', 'Empty'),
  SelfSubjectAccessReviewSpec: { 1: ['resourceAttributes', 'ResourceAttributes'], 2: ['nonResourceAttributes', 'NonResourceAttributes'] },
  ResourceAttributes: { 1: ['namespace', 'string'], 2: ['verb', 'string'], 3: ['group', 'string'], 4: ['version', 'string'], 5: ['resource', 'string'], 6: ['subresource', 'string'], 7: ['name', 'string'] },
  NonResourceAttributes: { 1: ['path', 'string'], 2: ['verb', 'string'] },
  SelfSubjectRulesReview: meta('SelfSubjectRulesReviewSpec', 'Empty'),
  SelfSubjectRulesReviewSpec: { 1: ['namespace', 'string'] },
  SelfSubjectReview: meta(undefined, 'Empty'),
  TokenRequest: meta('TokenRequestSpec', 'Empty'),
  // autoscaling/v1
  HorizontalPodAutoscaler: meta('HorizontalPodAutoscalerSpec', 'Empty'),
  HorizontalPodAutoscalerSpec: { 1: ['scaleTargetRef', 'CrossVersionObjectReference'], 2: ['minReplicas', 'int'], 3: ['maxReplicas', 'int'], 4: ['targetCPUUtilizationPercentage', 'int'] },
  CrossVersionObjectReference: { 1: ['kind', 'string'], 2: ['name', 'string'], 3: ['apiVersion', 'string'] },
  // policy/v1, scheduling.k8s.io/v1
  PodDisruptionBudget: meta('PodDisruptionBudgetSpec', 'Empty'),
  PodDisruptionBudgetSpec: { 1: ['minAvailable', 'IntOrString'], 2: ['selector', 'LabelSelector'], 3: ['maxUnavailable', 'IntOrString'], 4: ['unhealthyPodEvictionPolicy', 'string'] },
  Eviction: { 1: ['metadata', 'ObjectMeta'], 2: ['deleteOptions', 'DeleteOptions'] },
  DeleteOptions: { 1: ['gracePeriodSeconds', 'int'], 2: ['preconditions', 'Preconditions'], 4: ['propagationPolicy', 'string'], 5: ['dryRun', 'string', true] },
  Preconditions: { 1: ['uid', 'string'], 2: ['resourceVersion', 'string'] },
  PriorityClass: { 1: ['metadata', 'ObjectMeta'], 2: ['value', 'int'], 3: ['globalDefault', 'bool'], 4: ['description', 'string'], 5: ['preemptionPolicy', 'string'] },
  TokenRequestSpec: { 1: ['audiences', 'string', true], 4: ['expirationSeconds', 'int'] },
  // certificates.k8s.io/v1: kubectl certificate approve|deny PUTs the whole object to /approval.
  CertificateSigningRequest: meta('CertificateSigningRequestSpec', 'CertificateSigningRequestStatus'),
  CertificateSigningRequestSpec: {
    1: ['request', 'bytes'], 2: ['usages', 'string', true], 3: ['username', 'string'], 4: ['uid', 'string'], 5: ['groups', 'string', true],
    7: ['signerName', 'string'], 8: ['expirationSeconds', 'int'],
  },
  CertificateSigningRequestStatus: { 1: ['conditions', 'CertificateSigningRequestCondition', true], 2: ['certificate', 'bytes'] },
  CertificateSigningRequestCondition: { 1: ['type', 'string'], 2: ['reason', 'string'], 3: ['message', 'string'], 4: ['lastUpdateTime', 'Time'], 5: ['lastTransitionTime', 'Time'], 6: ['status', 'string'] },
};

/** Top-level kinds we accept as protobuf request bodies. */
export const protobufKinds = new Set([
  'Namespace', 'ConfigMap', 'Secret', 'ServiceAccount', 'Service', 'Pod', 'ResourceQuota', 'Deployment', 'Job', 'CronJob',
  'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'SelfSubjectAccessReview', 'SelfSubjectRulesReview', 'SelfSubjectReview', 'TokenRequest',
  'PodDisruptionBudget', 'Eviction', 'PriorityClass', 'HorizontalPodAutoscaler', 'CertificateSigningRequest',
]);
