// batch/v1 Job and CronJob: their defaults, the selector Kubernetes generates
// for a Job (its uid as label, so its pods never overlap another's), and
// validation with Kubernetes' field paths and messages.
import { define, obj, str, int, int64, bool, loose } from './schema.js';
import { kindSchema, required, nameColumn, ageColumn, col, selectorString, labelSelector, humanDuration } from './meta.js';
import { podTemplateSpec, defaultPodSpec, validatePodSpec } from './core-pod.js';
import { defineType } from './define-type.js';
import { labelSelectorMatches } from './selectors.js';
import { isKnownTimeZone, scheduleError } from './cron-schedule.js';
import type { FieldError, KObject } from './resource-type.js';

/** The labels Kubernetes puts on a Job's pods (both the prefixed and the legacy spellings). */
export const jobLabels = {
  controllerUid: 'batch.kubernetes.io/controller-uid',
  jobName: 'batch.kubernetes.io/job-name',
  legacyControllerUid: 'controller-uid',
  legacyJobName: 'job-name',
  completionIndex: 'batch.kubernetes.io/job-completion-index',
} as const;

const schemaOf = (kind: string, description: string, fields: Parameters<typeof kindSchema>[3]) => ({
  schemaName: `io.k8s.api.batch.v1.${kind}`,
  schema: kindSchema(`io.k8s.api.batch.v1.${kind}`, { group: 'batch', version: 'v1', kind }, description, fields),
});

const containers = (o: KObject) => (o.spec?.template?.spec?.containers ?? o.spec?.jobTemplate?.spec?.template?.spec?.containers ?? []) as any[];
const containerNames = (o: KObject) => containers(o).map((c) => c.name).join(',') || '<none>';
const images = (o: KObject) => containers(o).map((c) => c.image).join(',') || '<none>';

function jobStatus(o: KObject): string {
  const conds: any[] = o.status?.conditions ?? [];
  const done = (t: string) => conds.some((c) => c.type === t && c.status === 'True');
  if (done('Complete')) return 'Complete';
  if (done('Failed')) return 'Failed';
  if (o.metadata?.deletionTimestamp) return 'Terminating';
  if (done('Suspended')) return 'Suspended';
  if (done('FailureTarget')) return 'FailureTarget';
  if (done('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function jobDuration(o: KObject, now: number): string {
  const start = o.status?.startTime;
  if (!start) return '';
  const end = o.status?.completionTime ? Date.parse(o.status.completionTime) : now;
  return humanDuration(end - Date.parse(start));
}

/** kubectl's COMPLETIONS: "2/5", or for a work queue (no completions) "0/1 of 3". */
function jobCompletions(o: KObject): string {
  const succeeded = o.status?.succeeded ?? 0;
  if (o.spec?.completions !== undefined && o.spec.completions !== null) return `${succeeded}/${o.spec.completions}`;
  const p = o.spec?.parallelism;
  return typeof p === 'number' && p > 1 ? `${succeeded}/1 of ${p}` : `${succeeded}/1`;
}

const jobSpec = define(
  'io.k8s.api.batch.v1.JobSpec',
  obj(
    {
      parallelism: int(),
      completions: int(),
      activeDeadlineSeconds: int64(),
      podFailurePolicy: loose(),
      successPolicy: loose(),
      backoffLimit: int('Specifies the number of retries before marking this job failed. Defaults to 6.'),
      backoffLimitPerIndex: int(),
      maxFailedIndexes: int(),
      selector: labelSelector,
      manualSelector: bool(),
      template: podTemplateSpec,
      ttlSecondsAfterFinished: int(),
      completionMode: str(),
      suspend: bool(),
      podReplacementPolicy: str(),
      managedBy: str(),
    },
    { required: ['template'], description: 'JobSpec describes how the job execution will look like.' },
  ),
);

/** SetDefaults_Job: completions and parallelism default to 1 only when both are unset (else completions stays unset: a work queue). */
function defaultJobSpec(s: any): void {
  if (!s || typeof s !== 'object') return;
  if (s.completions == null && s.parallelism == null) {
    s.completions = 1;
    s.parallelism = 1;
  }
  s.parallelism ??= 1;
  s.backoffLimit ??= s.backoffLimitPerIndex != null ? 2147483647 : 6;
  s.completionMode ??= 'NonIndexed';
  s.suspend ??= false;
  s.manualSelector ??= undefined;
  if (s.manualSelector === undefined) delete s.manualSelector;
  s.podReplacementPolicy ??= s.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  for (const r of s.podFailurePolicy?.rules ?? []) for (const c of r?.onPodConditions ?? []) if (c && typeof c === 'object') c.status ??= 'True';
  // A Job's pods must say how they restart: the pod default (Always) is not applied, validation asks for it.
  const rp = s.template?.spec?.restartPolicy;
  defaultPodSpec(s.template?.spec);
  if (s.template?.spec && rp === undefined) delete s.template.spec.restartPolicy;
  if (s.template && typeof s.template === 'object') {
    s.template.metadata ??= {};
    s.template.metadata.creationTimestamp ??= null;
  }
}

/**
 * The strategy's generateSelector: unless manualSelector, the pod template gets
 * the job-name and controller-uid labels (both spellings) and the selector
 * matches on the uid. A label the user set is left alone; validation then
 * reports the conflict.
 */
function generateSelector(o: KObject): void {
  const s = o.spec;
  if (!s || typeof s !== 'object' || s.manualSelector === true || !o.metadata?.uid) return;
  if (!s.template || typeof s.template !== 'object') return;
  const labels = (s.template.metadata ??= {}).labels ?? {};
  for (const k of [jobLabels.legacyJobName, jobLabels.jobName]) labels[k] ??= o.metadata.name;
  for (const k of [jobLabels.legacyControllerUid, jobLabels.controllerUid]) labels[k] ??= o.metadata.uid;
  s.template.metadata.labels = labels;
  s.selector ??= {};
  s.selector.matchLabels ??= {};
  s.selector.matchLabels[jobLabels.controllerUid] ??= o.metadata.uid;
}

/** Go's %#v of a LabelSelector, as Kubernetes prints the bad value. */
function goLabelSelector(sel: any): string {
  const keys = Object.keys(sel?.matchLabels ?? {}).sort();
  const ml = sel?.matchLabels ? `map[string]string{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(sel.matchLabels[k])}`).join(', ')}}` : 'map[string]string(nil)';
  const me = (sel?.matchExpressions ?? []).length
    ? `[]v1.LabelSelectorRequirement{${sel.matchExpressions.map((e: any) => `v1.LabelSelectorRequirement{Key:${JSON.stringify(e.key)}, Operator:${JSON.stringify(e.operator)}, Values:[]string{${(e.values ?? []).map((v: string) => JSON.stringify(v)).join(', ')}}}`).join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${ml}, MatchExpressions:${me}}`;
}

const nonNegative = (v: unknown, field: string): FieldError[] =>
  typeof v === 'number' && v < 0 ? [{ field, type: 'FieldValueInvalid', message: `Invalid value: ${v}: must be greater than or equal to 0` }] : [];

/** validateGeneratedSelector: the selector must be the generated one unless manualSelector. */
function validateGeneratedSelector(o: KObject): FieldError[] {
  const s = o.spec ?? {};
  if (s.manualSelector === true || !s.selector) return [];
  const errs: FieldError[] = [];
  const tplLabels = s.template?.metadata?.labels ?? {};
  const path = 'spec.template.metadata.labels';
  for (const [k, want] of [
    [jobLabels.legacyControllerUid, o.metadata?.uid],
    [jobLabels.legacyJobName, o.metadata?.name],
    [jobLabels.controllerUid, o.metadata?.uid],
    [jobLabels.jobName, o.metadata?.name],
  ] as const) {
    if (tplLabels[k] !== want) errs.push({ field: `${path}[${k}]`, type: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(tplLabels[k] ?? '')}: must be '${want}'` });
  }
  if (!labelSelectorMatches(s.selector, { [jobLabels.controllerUid]: o.metadata?.uid ?? '' })) {
    errs.push({ field: 'spec.selector', type: 'FieldValueInvalid', message: `Invalid value: ${goLabelSelector(s.selector)}: \`selector\` not auto-generated` });
  }
  return errs;
}

const podFailureActions = ['Count', 'FailIndex', 'FailJob', 'Ignore'];

function validatePodFailurePolicy(p: any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (p?.rules ?? []).forEach((r: any, i: number) => {
    const rp = `${path}.rules[${i}]`;
    if (!podFailureActions.includes(r?.action)) {
      errs.push({ field: `${rp}.action`, type: 'FieldValueNotSupported', message: `Unsupported value: "${String(r?.action ?? '')}": supported values: ${podFailureActions.map((a) => `"${a}"`).join(', ')}` });
    }
    const codes = r?.onExitCodes;
    const conds = r?.onPodConditions;
    if (codes && conds?.length) errs.push({ field: rp, type: 'FieldValueInvalid', message: 'Invalid value: specifying both OnExitCodes and OnPodConditions is not supported' });
    if (!codes && !conds?.length) errs.push({ field: rp, type: 'FieldValueInvalid', message: 'Invalid value: specifying one of OnExitCodes and OnPodConditions is required' });
    if (codes) {
      if (codes.operator !== 'In' && codes.operator !== 'NotIn') {
        errs.push({ field: `${rp}.onExitCodes.operator`, type: 'FieldValueNotSupported', message: `Unsupported value: "${String(codes.operator ?? '')}": supported values: "In", "NotIn"` });
      }
      const values: unknown[] = codes.values ?? [];
      if (!values.length) errs.push({ field: `${rp}.onExitCodes.values`, type: 'FieldValueInvalid', message: 'Invalid value: []int32{}: at least one value is required' });
      values.forEach((v, j) => {
        if (codes.operator === 'In' && v === 0) errs.push({ field: `${rp}.onExitCodes.values[${j}]`, type: 'FieldValueInvalid', message: 'Invalid value: 0: must not be 0 for the In operator' });
      });
    }
  });
  return errs;
}

function validateJobSpec(s: any, path: string): FieldError[] {
  const errs: FieldError[] = [
    ...nonNegative(s?.parallelism, `${path}.parallelism`),
    ...nonNegative(s?.completions, `${path}.completions`),
    ...nonNegative(s?.activeDeadlineSeconds, `${path}.activeDeadlineSeconds`),
    ...nonNegative(s?.backoffLimit, `${path}.backoffLimit`),
    ...nonNegative(s?.ttlSecondsAfterFinished, `${path}.ttlSecondsAfterFinished`),
  ];
  const mode = s?.completionMode;
  if (mode !== undefined && mode !== 'NonIndexed' && mode !== 'Indexed') {
    errs.push({ field: `${path}.completionMode`, type: 'FieldValueNotSupported', message: `Unsupported value: "${String(mode)}": supported values: "Indexed", "NonIndexed"` });
  }
  if (mode === 'Indexed') {
    if (s?.completions == null) errs.push({ field: `${path}.completions`, type: 'FieldValueRequired', message: 'Required value: when completion mode is Indexed' });
    if (typeof s?.parallelism === 'number' && s.parallelism > 100000) {
      errs.push({ field: `${path}.parallelism`, type: 'FieldValueInvalid', message: `Invalid value: ${s.parallelism}: must be less than or equal to 100000 when completion mode is Indexed` });
    }
  }
  if (s?.podFailurePolicy) errs.push(...validatePodFailurePolicy(s.podFailurePolicy, `${path}.podFailurePolicy`));
  const rpp = s?.podReplacementPolicy;
  if (rpp !== undefined && rpp !== 'Failed' && rpp !== 'TerminatingOrFailed') {
    errs.push({ field: `${path}.podReplacementPolicy`, type: 'FieldValueNotSupported', message: `Unsupported value: "${String(rpp)}": supported values: "Failed", "TerminatingOrFailed"` });
  } else if (s?.podFailurePolicy && rpp === 'TerminatingOrFailed') {
    errs.push({ field: `${path}.podReplacementPolicy`, type: 'FieldValueNotSupported', message: 'Unsupported value: "TerminatingOrFailed": supported values: "Failed"' });
  }
  errs.push(...validatePodSpec(s?.template?.spec, `${path}.template.spec`));
  const rp = s?.template?.spec?.restartPolicy;
  const rpPath = `${path}.template.spec.restartPolicy`;
  if (rp === undefined || rp === '' || rp === 'Always') errs.push({ field: rpPath, type: 'FieldValueRequired', message: 'Required value: valid values: "OnFailure", "Never"' });
  else if (rp !== 'OnFailure' && rp !== 'Never') errs.push({ field: rpPath, type: 'FieldValueNotSupported', message: `Unsupported value: "${String(rp)}": supported values: "OnFailure", "Never"` });
  else if (s?.podFailurePolicy && rp !== 'Never') errs.push({ field: rpPath, type: 'FieldValueInvalid', message: `Invalid value: "${rp}": only "Never" is supported when podFailurePolicy is specified` });
  return errs;
}

/** A suspended Job that never started may change these parts of its template (Kubernetes' mutable scheduling directives). */
function templateWithoutSchedulingDirectives(t: any): string {
  const { metadata, spec } = t ?? {};
  const { labels: _l, annotations: _a, ...meta } = metadata ?? {};
  const { nodeSelector: _n, tolerations: _t, affinity: _af, schedulingGates: _g, ...rest } = spec ?? {};
  return JSON.stringify({ meta, rest });
}

function validateJobUpdate(o: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const s = o.spec ?? {};
  const os = old.spec ?? {};
  if (JSON.stringify(s.selector) !== JSON.stringify(os.selector)) errs.push({ field: 'spec.selector', type: 'FieldValueInvalid', message: `Invalid value: ${goLabelSelector(s.selector)}: field is immutable` });
  // Completions may change only for an Indexed Job whose new completions equal its parallelism (elastic Indexed Jobs).
  if (s.completions !== os.completions && !(s.completionMode === 'Indexed' && s.completions === s.parallelism)) {
    errs.push({ field: 'spec.completions', type: 'FieldValueInvalid', message: `Invalid value: ${String(s.completions ?? 'null')}: field is immutable` });
  }
  if (s.completionMode !== os.completionMode) errs.push({ field: 'spec.completionMode', type: 'FieldValueInvalid', message: `Invalid value: "${String(s.completionMode)}": field is immutable` });
  if (JSON.stringify(s.podFailurePolicy) !== JSON.stringify(os.podFailurePolicy)) errs.push({ field: 'spec.podFailurePolicy', type: 'FieldValueInvalid', message: 'Invalid value: field is immutable' });
  const same = JSON.stringify(s.template) === JSON.stringify(os.template);
  const mayMutate = os.suspend === true && !old.status?.startTime && templateWithoutSchedulingDirectives(s.template) === templateWithoutSchedulingDirectives(os.template);
  if (!same && !mayMutate) errs.push({ field: 'spec.template', type: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(s.template)}: field is immutable` });
  return errs;
}

function validateJob(o: KObject, old?: KObject): FieldError[] {
  const s = o.spec ?? {};
  const errs = [...validateGeneratedSelector(o), ...validateJobSpec(s, 'spec')];
  if (!s.selector) errs.push({ field: 'spec.selector', type: 'FieldValueRequired', message: 'Required value' });
  else if (!labelSelectorMatches(s.selector, s.template?.metadata?.labels ?? {})) {
    errs.push({ field: 'spec.template.metadata.labels', type: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(s.template?.metadata?.labels ?? {})}: \`selector\` does not match template \`labels\`` });
  }
  if (old) errs.push(...validateJobUpdate(o, old));
  return errs;
}

export const jobType = defineType({
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  categories: ['all'],
  namespaced: true,
  status: true,
  ...schemaOf('Job', 'Job represents the configuration of a single job.', { spec: jobSpec, status: loose() }),
  defaults(o) {
    defaultJobSpec(o.spec);
    generateSelector(o);
  },
  validate: validateJob,
  columns: [
    nameColumn,
    col('Status', jobStatus),
    col('Completions', jobCompletions),
    col('Duration', jobDuration),
    ageColumn,
    col('Containers', containerNames, 1),
    col('Images', images, 1),
    col('Selector', (o) => selectorString(o.spec?.selector), 1),
  ],
  fieldSelectors: { 'status.successful': (o) => String(o.status?.succeeded ?? 0) },
});

const concurrencyPolicies = ['Allow', 'Forbid', 'Replace'];

function validateCronJob(o: KObject): FieldError[] {
  const s = o.spec ?? {};
  const errs: FieldError[] = [];
  const name = o.metadata?.name ?? '';
  // A Job's name is the CronJob's plus "-" and up to 10 digits, within a 63-character label.
  if (name.length > 52) errs.push({ field: 'metadata.name', type: 'FieldValueInvalid', message: `Invalid value: "${name}": must be no more than 52 characters` });
  if (!s.schedule) errs.push(...required(s.schedule, 'spec.schedule'));
  else if (typeof s.schedule === 'string') {
    const err = scheduleError(s.schedule);
    if (err) errs.push({ field: 'spec.schedule', type: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(s.schedule)}: ${err}` });
    if (s.schedule.includes('TZ')) errs.push({ field: 'spec.schedule', type: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(s.schedule)}: cannot use TZ or CRON_TZ in schedule, use timeZone field instead` });
  }
  if (s.timeZone !== undefined && s.timeZone !== null) {
    const tz = String(s.timeZone);
    const bad = (m: string) => errs.push({ field: 'spec.timeZone', type: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(tz)}: ${m}` });
    if (!tz) bad('timeZone must be nil or non-empty string');
    else if (tz.split('/').some((p) => p === '.' || p === '..' || p.startsWith('-') || !/^[A-Za-z._+\-0-9]+$/.test(p))) bad(`unknown time zone ${tz}`);
    else if (tz.toLowerCase() === 'local') bad('timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones');
    else if (!isKnownTimeZone(tz)) bad(`unknown time zone ${tz}`);
  }
  errs.push(...nonNegative(s.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  if (!s.concurrencyPolicy) errs.push({ field: 'spec.concurrencyPolicy', type: 'FieldValueRequired', message: 'Required value' });
  else if (!concurrencyPolicies.includes(s.concurrencyPolicy)) {
    errs.push({ field: 'spec.concurrencyPolicy', type: 'FieldValueNotSupported', message: `Unsupported value: "${String(s.concurrencyPolicy)}": supported values: "Allow", "Forbid", "Replace"` });
  }
  errs.push(...nonNegative(s.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'), ...nonNegative(s.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  const js = s.jobTemplate?.spec;
  errs.push(...validateJobSpec(js, 'spec.jobTemplate.spec'));
  if (js?.selector) errs.push({ field: 'spec.jobTemplate.spec.selector', type: 'FieldValueInvalid', message: `Invalid value: ${goLabelSelector(js.selector)}: \`selector\` will be auto-generated` });
  if (js?.manualSelector === true) errs.push({ field: 'spec.jobTemplate.spec.manualSelector', type: 'FieldValueNotSupported', message: 'Unsupported value: true: supported values: "nil", "false"' });
  return errs;
}

export const cronJobType = defineType({
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  shortNames: ['cj'],
  categories: ['all'],
  namespaced: true,
  status: true,
  ...schemaOf('CronJob', 'CronJob represents the configuration of a single cron job.', {
    spec: obj(
      {
        schedule: str('The schedule in Cron format.'),
        timeZone: str(),
        startingDeadlineSeconds: int64(),
        concurrencyPolicy: str(),
        suspend: bool(),
        jobTemplate: obj({ metadata: loose(), spec: jobSpec }),
        successfulJobsHistoryLimit: int(),
        failedJobsHistoryLimit: int(),
      },
      { required: ['schedule', 'jobTemplate'] },
    ),
    status: loose(),
  }),
  defaults(o) {
    const s = (o.spec ??= {});
    s.concurrencyPolicy ??= 'Allow';
    s.suspend ??= false;
    s.successfulJobsHistoryLimit ??= 3;
    s.failedJobsHistoryLimit ??= 1;
    if (s.jobTemplate && typeof s.jobTemplate === 'object') {
      s.jobTemplate.metadata ??= {};
      s.jobTemplate.metadata.creationTimestamp ??= null;
    }
    defaultJobSpec(s.jobTemplate?.spec);
  },
  validate: validateCronJob,
  columns: [
    nameColumn,
    col('Schedule', (o) => o.spec?.schedule ?? ''),
    col('Timezone', (o) => o.spec?.timeZone ?? '<none>'),
    col('Suspend', (o) => (o.spec?.suspend ? 'True' : 'False')),
    col('Active', (o) => (o.status?.active ?? []).length, 0, 'integer'),
    col('Last Schedule', (o, now) => (o.status?.lastScheduleTime ? humanDuration(now - Date.parse(o.status.lastScheduleTime)) : '<none>')),
    ageColumn,
    col('Containers', containerNames, 1),
    col('Images', images, 1),
    col('Selector', () => '<none>', 1),
  ],
});
