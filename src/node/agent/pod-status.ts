// Pod status as the kubelet reports it, computed from the engine containers
// (never remembered, except the conditions' transition times, which the
// agent's last write carries over): phase, conditions, container statuses
// with state, lastState and restartCount, podIP, hostIP, qosClass.
import type { ContainerRecord } from '../../engine/container-record.js';
import type { Pod, PodContainer } from './pod-types.js';
import type { PodContainers } from './pod-runtime.js';
import type { ProbeResults } from './prober.js';

/** Why a container is not running now (set by the syncer). */
export interface Waiting {
  reason: string;
  message?: string;
}

export interface StatusInput {
  pod: Pod;
  containers: PodContainers;
  hostIP: string;
  probes: (containerId: string) => ProbeResults | undefined;
  waiting: Map<string, Waiting>;
  initDone: boolean;
  startTime: string;
  /**
   * The conditions this agent last wrote for the pod, when it wrote any: their transition
   * times are the ones kept. The pod object may still carry the write before (its watch
   * event comes after the next sync began), and keeping that one's times made two syncs
   * write alternating times for ever, each write waking the other sync.
   */
  lastConditions?: Condition[];
}

export type Condition = { type: string; status: string; lastTransitionTime?: string };

const zeroTime = '0001-01-01T00:00:00Z';

function terminated(c: ContainerRecord): Record<string, unknown> {
  const code = c.State.ExitCode;
  return {
    exitCode: code,
    reason: c.State.OOMKilled ? 'OOMKilled' : code === 0 ? 'Completed' : 'Error',
    startedAt: c.State.StartedAt && c.State.StartedAt !== zeroTime ? c.State.StartedAt.replace(/\.\d+Z$/, 'Z') : null,
    finishedAt: c.State.FinishedAt && c.State.FinishedAt !== zeroTime ? c.State.FinishedAt.replace(/\.\d+Z$/, 'Z') : null,
    containerID: `tug://${c.Id}`,
  };
}

function containerStatus(spec: PodContainer, attempts: ContainerRecord[] | undefined, input: StatusInput, kind: 'init' | 'app'): Record<string, unknown> {
  const cur = attempts?.[attempts.length - 1];
  const prev = attempts && attempts.length > 1 ? attempts[attempts.length - 2] : undefined;
  const waitingKey = `${kind}/${spec.name}`;
  const st: Record<string, unknown> = { name: spec.name, image: spec.image, imageID: cur ? cur.Image : '', restartCount: cur ? Number(cur.Config.Labels['io.kubernetes.container.restartCount'] ?? 0) : 0, ready: false, started: false };
  if (cur) st.containerID = `tug://${cur.Id}`;
  const w = input.waiting.get(waitingKey);
  if (w) st.state = { waiting: w };
  else if (cur?.State.Running) {
    const probes = input.probes(cur.Id);
    st.state = { running: { startedAt: cur.State.StartedAt.replace(/\.\d+Z$/, 'Z') } };
    st.started = probes?.started ?? true;
    st.ready = kind === 'app' ? (probes?.ready ?? true) : false;
  } else if (cur && cur.State.Status !== 'created') st.state = { terminated: terminated(cur) };
  else st.state = { waiting: { reason: kind === 'init' || input.initDone ? 'ContainerCreating' : 'PodInitializing' } };
  // The last terminated attempt: the running one's predecessor, or (while waiting to restart) the current one.
  const last = w && cur && !cur.State.Running && cur.State.Status !== 'created' ? cur : prev;
  st.lastState = last ? { terminated: terminated(last) } : {};
  return st;
}

export function qosClass(pod: Pod): string {
  const cs = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])];
  const any = cs.some((c) => Object.keys(c.resources?.requests ?? {}).length || Object.keys(c.resources?.limits ?? {}).length);
  if (!any) return 'BestEffort';
  const guaranteed = cs.every((c) => {
    const l = c.resources?.limits ?? {};
    const r = { ...l, ...(c.resources?.requests ?? {}) };
    return l.cpu && l.memory && r.cpu === l.cpu && r.memory === l.memory;
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export function computePodStatus(input: StatusInput): Record<string, unknown> {
  const { pod, containers } = input;
  const policy = pod.spec.restartPolicy ?? 'Always';
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const initStatuses = (pod.spec.initContainers ?? []).map((c) => containerStatus(c, containers.init.get(c.name), input, 'init'));
  const appStatuses = pod.spec.containers.map((c) => containerStatus(c, containers.app.get(c.name), input, 'app'));
  const initFailed = initStatuses.some((s) => (s.state as { terminated?: { exitCode: number } }).terminated?.exitCode) && policy === 'Never';
  let phase = 'Pending';
  const terms = appStatuses.map((s) => (s.state as { terminated?: { exitCode: number } }).terminated);
  if (initFailed) phase = 'Failed';
  else if (input.initDone && containers.sandbox) {
    const allTerminated = terms.every(Boolean) && appStatuses.every((s) => !input.waiting.has(`app/${s.name}`));
    if (allTerminated && policy !== 'Always' && (policy === 'Never' || terms.every((t) => t!.exitCode === 0))) {
      phase = terms.every((t) => t!.exitCode === 0) ? 'Succeeded' : 'Failed';
    } else if (appStatuses.some((s) => (s.state as { running?: unknown }).running || (s.lastState as { terminated?: unknown }).terminated || (s.state as { terminated?: unknown }).terminated)) phase = 'Running';
  }
  const containersReady = appStatuses.every((s) => s.ready);
  const old = input.lastConditions ?? ((pod.status?.conditions ?? []) as Condition[]);
  const cond = (type: string, ok: boolean, reason?: string): Record<string, unknown> => {
    const status = ok ? 'True' : 'False';
    const prev = old.find((c) => c.type === type);
    const c: Record<string, unknown> = { type, status, lastProbeTime: null, lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : now };
    if (!ok && reason) c.reason = reason;
    return c;
  };
  const done = phase === 'Succeeded' || phase === 'Failed';
  const sandbox = containers.sandbox;
  // A hostNetwork pod reports the node's address, as the kubelet does.
  const podIP = sandbox ? (sandbox.network === 'host' ? input.hostIP : sandbox.ip) : '';
  const status: Record<string, unknown> = {
    phase,
    conditions: [
      cond('PodReadyToStartContainers', containers.sandboxLive),
      cond('Initialized', input.initDone, 'ContainersNotInitialized'),
      cond('Ready', containersReady && !done, done ? 'PodCompleted' : 'ContainersNotReady'),
      cond('ContainersReady', containersReady && !done, done ? 'PodCompleted' : 'ContainersNotReady'),
      cond('PodScheduled', true),
    ],
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    startTime: input.startTime,
    containerStatuses: appStatuses,
    qosClass: qosClass(pod),
  };
  if (podIP) {
    status.podIP = podIP;
    status.podIPs = [{ ip: podIP }];
  }
  if (initStatuses.length) status.initContainerStatuses = initStatuses;
  return status;
}
