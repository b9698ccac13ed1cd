// Level-triggered reconcile of one pod on this node: given the Pod object
// (or its absence) and the engine's containers for it, take one step towards
// the wanted state and write the status. Safe to repeat and safe after a
// crash: everything it needs is read back from the engine's labelled containers.
import { podHostsEntries } from '../dns/pod-hosts.js';
import type { Engine } from '../../engine/engine.js';
import type { ContainerRecord } from '../../engine/container-record.js';
import type { PodSandbox } from '../../engine/pod-sandboxes.js';
import type { ContainerService } from '../../engine/container-service.js';
import type { ExecService } from '../../engine/exec-service.js';
import { messageOf, TugError } from '../../errdefs.js';
import type { KubeClient } from '../../kube/client/kube-client.js';
import type { Pod, PodContainer } from './pod-types.js';
import { podContainers, type PodContainers } from './pod-runtime.js';
import { PodSources } from './pod-sources.js';
import { PodSourceCache } from './pod-source-cache.js';
import { prepareVolumes, removePodDir } from './pod-volumes.js';
import { MountError } from './mount-error.js';
import { containerBinds, type HostVolumes } from './volume-mounts.js';
import type { LocalVolumes } from './local-volumes.js';
import { podContainerSpec, containerEnv, seccompSecurityOpt } from './container-config.js';
import { L, podLabels } from './labels.js';
import { ensureImage } from './pod-images.js';
import { computePodStatus, type Condition, type Waiting } from './pod-status.js';
import { ContainerProber } from './prober.js';
import { runHandler } from './handlers.js';
import type { PodRuntimeFacts } from './downward.js';
import type { ServiceEnv } from './service-env.js';
import type { PodDns } from '../dns/pod-dns.js';
import { tracePod } from './sync-trace.js';

const BACKOFF_START_MS = 10_000;
const BACKOFF_MAX_MS = 300_000;
/** A container that ran this long before exiting starts its back-off afresh. */
const BACKOFF_RESET_MS = 600_000;

export interface PodSyncerOptions {
  /** For reading the engine's containers and images; every change goes through `containers`. */
  engine: Engine;
  containers: ContainerService;
  execs: ExecService;
  client: KubeClient;
  dataDir: string;
  nodeName: string;
  hostIP: string;
  nodeCpu: number;
  nodeMemory: number;
  /** The service variables and cluster DNS of this agent's pods (set by its node services). */
  serviceEnv: ServiceEnv;
  podDns: PodDns;
  /** This node's local-path volumes (their directories are made before a pod mounts one). */
  localVolumes?: LocalVolumes;
  /** Asks for the pod key to be synced again (now, or after delayMs). */
  requeue: (key: string, delayMs?: number) => void;
  log: (msg: string) => void;
}

interface PodState {
  startTime: string;
  waiting: Map<string, Waiting>;
  /** Back-off per container name: current delay (the next restart waits this long after the exit). */
  backoff: Map<string, number>;
  lastStatus?: string;
  /** The conditions of lastStatus (their transition times carry over to the next status). */
  lastConditions?: Condition[];
  /** Volumes already given the pod's fsGroup. */
  owned: Set<string>;
  /** The last FailedMount message, so one Event is written per new reason. */
  lastMountError?: string;
}

/** The pod's IP: its own address on the node's bridge, or the node's for a hostNetwork pod. */
export function sandboxIP(s: PodSandbox, hostIP: string): string {
  return s.network === 'host' ? hostIP : s.ip;
}

const readyOf = (status: unknown): string | undefined => ((status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).find((c) => c.type === 'Ready')?.status;

const podsRef = (ns: string) => ({ group: '', version: 'v1', resource: 'pods', namespace: ns });

export class PodSyncer {
  private readonly pods = new Map<string, PodState>();
  private readonly probers = new Map<string, ContainerProber>();
  private readonly terminating = new Set<string>();
  /** The ConfigMaps and Secrets the node's pods use, kept by watches (a GET each per sync before). */
  private readonly sourceCache: PodSourceCache;

  constructor(private readonly o: PodSyncerOptions) {
    this.sourceCache = new PodSourceCache(o.client);
  }

  /** The syncer's key for a pod is "namespace/name"; the uid comes from the object or from the engine. */
  async sync(key: string, pod: Pod | undefined, orphanUid?: string): Promise<void> {
    if (!pod) {
      if (orphanUid) await this.teardown(orphanUid, 0);
      return;
    }
    const uid = pod.metadata.uid!;
    if (pod.metadata.deletionTimestamp) return this.terminate(key, pod);
    const state = this.stateOf(uid);
    let cs = podContainers(this.o.engine, uid);
    state.waiting.clear();
    // A pod whose containers ended for good: final status, and its sandbox stopped (its address freed), as the kubelet does.
    if (cs.sandbox && this.isFinished(pod, cs)) {
      const sandbox = cs.sandbox;
      const initDone = (pod.spec.initContainers ?? []).every((ic) => {
        const a = cs.init.get(ic.name);
        const cur = a?.[a.length - 1];
        return cur && !cur.State.Running && cur.State.Status !== 'created' && cur.State.ExitCode === 0;
      });
      await this.writeStatus(key, pod, cs, initDone);
      if (sandbox.state !== 'stopped') await this.o.engine.pods.stop(sandbox.id).catch((err) => this.o.log(`pod ${key}: stopping its sandbox: ${messageOf(err)}`));
      return;
    }
    // 1. the sandbox: the pod's network, IPC and UTS namespaces, pinned (no container).
    if (!cs.sandboxLive) {
      await this.recreateSandbox(pod, cs);
      // Straight on to the containers: a requeue would put this pod behind
      // every other pod of a burst, so each would wait for all the sandboxes.
      cs = podContainers(this.o.engine, uid);
      tracePod?.(key, 'sandbox made');
      if (!cs.sandboxLive) return this.o.requeue(key);
    }
    const sandbox = cs.sandbox!;
    const podIP = sandboxIP(sandbox, this.o.hostIP);
    const facts: PodRuntimeFacts = { podIP, hostIP: this.o.hostIP, nodeCpu: this.o.nodeCpu, nodeMemory: this.o.nodeMemory };
    const sources = new PodSources(this.o.client, pod.metadata.namespace ?? 'default', { cache: this.sourceCache, podUid: uid });
    let volumes: HostVolumes;
    try {
      volumes = await prepareVolumes(this.o.dataDir, pod, { sources, facts, localVolumes: this.o.localVolumes, nodeName: this.o.nodeName, owned: state.owned });
      state.lastMountError = undefined;
    } catch (err) {
      if (err instanceof MountError) {
        // As the kubelet: the containers wait in ContainerCreating, the reason is a FailedMount Event.
        for (const c of [...(pod.spec.initContainers ?? []).map((x) => `init/${x.name}`), ...pod.spec.containers.map((x) => `app/${x.name}`)]) state.waiting.set(c, { reason: 'ContainerCreating' });
        if (state.lastMountError !== err.message) {
          state.lastMountError = err.message;
          await this.podEvent(pod, 'Warning', 'FailedMount', err.message).catch(() => undefined);
        }
        await this.writeStatus(key, pod, cs, false);
        return this.o.requeue(key, 2000);
      }
      for (const c of pod.spec.containers) state.waiting.set(`app/${c.name}`, { reason: 'CreateContainerConfigError', message: messageOf(err) });
      await this.writeStatus(key, pod, cs, false);
      return this.o.requeue(key, 5000);
    }
    // 2. init containers, one at a time, each to a successful exit.
    const initDone = await this.runInitContainers(key, pod, cs, state, sources, facts, volumes);
    // 3. app containers.
    if (initDone) for (const c of pod.spec.containers) await this.ensureApp(key, pod, c, cs, state, sources, facts, volumes);
    tracePod?.(key, 'containers done');
    const fresh = podContainers(this.o.engine, uid);
    this.syncProbers(key, pod, fresh);
    await this.writeStatus(key, pod, fresh, initDone);
  }

  private stateOf(uid: string): PodState {
    let s = this.pods.get(uid);
    if (!s) {
      s = { startTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), waiting: new Map(), backoff: new Map(), owned: new Set() };
      this.pods.set(uid, s);
    }
    return s;
  }

  /**
   * Whether the pod's containers ended for good, judged from the engine (not
   * from the possibly stale status): restartPolicy Never or OnFailure, every
   * app container exited and none due a restart, or an init container failed under Never.
   */
  private isFinished(pod: Pod, cs: PodContainers): boolean {
    const policy = pod.spec.restartPolicy ?? 'Always';
    if (policy === 'Always') return false;
    const exited = (attempts: ContainerRecord[] | undefined): ContainerRecord | undefined => {
      const cur = attempts?.[attempts.length - 1];
      return cur && !cur.State.Running && cur.State.Status !== 'created' ? cur : undefined;
    };
    if (policy === 'Never' && (pod.spec.initContainers ?? []).some((ic) => (exited(cs.init.get(ic.name))?.State.ExitCode ?? 0) !== 0)) return true;
    return pod.spec.containers.every((c) => {
      const cur = exited(cs.app.get(c.name));
      return cur !== undefined && (policy === 'Never' || cur.State.ExitCode === 0);
    });
  }

  private async recreateSandbox(pod: Pod, cs: PodContainers): Promise<void> {
    // A dead sandbox takes the pod's containers with it (their namespaces are gone), as with the kubelet.
    for (const c of cs.all) await this.o.containers.remove(c.Id, { force: true, removeVolumes: false }).catch(() => undefined);
    for (const s of [...cs.staleSandboxes, ...(cs.sandbox ? [cs.sandbox] : [])]) await this.o.engine.pods.remove(s.id);
    // A bad pod-level seccompProfile fails here, before anything is made (the containers inherit it).
    seccompSecurityOpt(pod.spec.securityContext?.seccompProfile, `pod "${pod.metadata.name}"`);
    const attempt = cs.sandbox ? Number(cs.sandbox.labels[L.attempt]) + 1 : 0;
    const s = pod.spec;
    await this.o.engine.pods.create({
      labels: podLabels(pod, 'POD', 'sandbox', attempt),
      hostname: s.hostname ?? pod.metadata.name!,
      network: s.hostNetwork ? 'host' : 'pod',
      ipc: s.hostIPC ? 'host' : 'pod',
      pid: s.hostPID ? 'host' : s.shareProcessNamespace ? 'pod' : 'container',
    });
  }

  private async runInitContainers(key: string, pod: Pod, cs: PodContainers, state: PodState, sources: PodSources, facts: PodRuntimeFacts, volumes: HostVolumes): Promise<boolean> {
    const policy = pod.spec.restartPolicy ?? 'Always';
    for (const ic of pod.spec.initContainers ?? []) {
      const attempts = cs.init.get(ic.name) ?? [];
      const cur = attempts[attempts.length - 1];
      if (cur && !cur.State.Running && cur.State.Status !== 'created' && cur.State.ExitCode === 0) continue;
      if (cur?.State.Running) return false;
      if (cur && policy === 'Never') return false; // failed for good: phase Failed
      if (cur && !this.backoffAllows(key, state, `init/${ic.name}`, cur)) return false;
      await this.startNew(pod, ic, 'init', cur ? Number(cur.Config.Labels['io.kubernetes.container.restartCount']) + 1 : 0, cs, state, sources, facts, volumes, attempts);
      return false;
    }
    return true;
  }

  private async ensureApp(key: string, pod: Pod, c: PodContainer, cs: PodContainers, state: PodState, sources: PodSources, facts: PodRuntimeFacts, volumes: HostVolumes): Promise<void> {
    const attempts = cs.app.get(c.name) ?? [];
    const cur = attempts[attempts.length - 1];
    if (cur?.State.Running) return;
    if (cur && cur.State.Status !== 'created') {
      const policy = pod.spec.restartPolicy ?? 'Always';
      const restart = policy === 'Always' || (policy === 'OnFailure' && cur.State.ExitCode !== 0);
      if (!restart) return;
      if (!this.backoffAllows(key, state, `app/${c.name}`, cur)) return;
    }
    const attempt = cur ? Number(cur.Config.Labels['io.kubernetes.container.restartCount']) + (cur.State.Status === 'created' ? 0 : 1) : 0;
    await this.startNew(pod, c, 'app', attempt, cs, state, sources, facts, volumes, attempts);
  }

  /**
   * Restarts of an exited container wait out a back-off: the first is at once,
   * then 10 s doubling to 5 min (CrashLoopBackOff), reset after 10 min of running.
   */
  private backoffAllows(key: string, state: PodState, name: string, exited: ContainerRecord): boolean {
    const finished = Date.parse(exited.State.FinishedAt) || Date.now();
    const started = Date.parse(exited.State.StartedAt) || finished;
    if (finished - started >= BACKOFF_RESET_MS) state.backoff.delete(name);
    const delay = state.backoff.get(name);
    if (delay === undefined) {
      state.backoff.set(name, BACKOFF_START_MS);
      return true;
    }
    const readyAt = finished + delay;
    if (Date.now() >= readyAt) {
      state.backoff.set(name, Math.min(delay * 2, BACKOFF_MAX_MS));
      return true;
    }
    const [, cname] = name.split('/');
    state.waiting.set(name, { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${cname} pod=${key.replace('/', '_')}` });
    this.o.requeue(key, readyAt - Date.now() + 50);
    return false;
  }

  private async startNew(pod: Pod, c: PodContainer, role: 'init' | 'app', attempt: number, cs: PodContainers, state: PodState, sources: PodSources, facts: PodRuntimeFacts, volumes: HostVolumes, attempts: ContainerRecord[]): Promise<void> {
    const wkey = `${role}/${c.name}`;
    let image;
    try {
      image = await ensureImage(this.o.engine, c);
    } catch (err) {
      // A missing image under pull policy Never is its own reason in Kubernetes (no pull was tried).
      const never = c.imagePullPolicy === 'Never' && err instanceof TugError && err.kind === 'not-found';
      state.waiting.set(wkey, { reason: never ? 'ErrImageNeverPull' : 'ErrImagePull', message: messageOf(err) });
      return;
    }
    let spec;
    try {
      const env = await containerEnv(pod, c, sources, facts, this.o.serviceEnv);
      const binds = await containerBinds(c, volumes, env);
      spec = podContainerSpec({ pod, container: c, role, attempt, sandbox: cs.sandbox!, env, dns: this.o.podDns.hostConfig(pod), hosts: podHostsEntries(pod, facts.podIP, this.o.podDns.domain), volumes: volumes.paths, binds, imageUser: image.user });
    } catch (err) {
      state.waiting.set(wkey, { reason: 'CreateContainerConfigError', message: messageOf(err) });
      return;
    }
    // A created-but-never-started attempt (agent crashed in between) is replaced.
    const stale = attempts.filter((a) => a.State.Status === 'created');
    // Keep only the newest exited attempt, for `kubectl logs --previous`.
    const exited = attempts.filter((a) => a.State.Status !== 'created' && !a.State.Running);
    for (const a of [...stale, ...exited.slice(0, -1)]) await this.o.containers.remove(a.Id, { force: true, removeVolumes: false }).catch(() => undefined);
    let id: string | undefined;
    try {
      ({ Id: id } = await this.o.containers.create(spec));
      await this.o.containers.start(id);
    } catch (err) {
      if (err instanceof TugError && err.kind === 'internal') this.o.log(`pod ${pod.metadata.namespace}/${pod.metadata.name}: container ${c.name}: ${messageOf(err)}`);
      state.waiting.set(wkey, { reason: id ? 'RunContainerError' : 'CreateContainerError', message: messageOf(err) });
    }
  }

  private syncProbers(key: string, pod: Pod, cs: PodContainers): void {
    const live = new Set<string>();
    for (const c of pod.spec.containers) {
      const attempts = cs.app.get(c.name) ?? [];
      const cur = attempts[attempts.length - 1];
      if (!cur?.State.Running) continue;
      live.add(cur.Id);
      if (this.probers.has(cur.Id) || !(c.livenessProbe || c.readinessProbe || c.startupProbe)) continue;
      const id = cur.Id;
      const prober = new ContainerProber(
        { execs: this.o.execs, containerId: id, container: c, podIP: cs.sandbox ? sandboxIP(cs.sandbox, this.o.hostIP) : '' },
        { liveness: c.livenessProbe, readiness: c.readinessProbe, startup: c.startupProbe },
        () => this.o.requeue(key),
        (reason) => {
          this.o.log(`pod ${key}: container ${c.name}: ${reason}, restarting`);
          this.o.containers.stop(id, { timeout: pod.spec.terminationGracePeriodSeconds ?? 30 })
            .catch(() => undefined)
            .finally(() => this.o.requeue(key));
        },
      );
      this.probers.set(id, prober);
    }
    for (const c of cs.all) {
      if (!live.has(c.Id)) this.stopProber(c.Id);
    }
  }

  private stopProber(id: string): void {
    this.probers.get(id)?.stop();
    this.probers.delete(id);
  }

  private async writeStatus(key: string, pod: Pod, cs: PodContainers, initDone: boolean): Promise<void> {
    const state = this.stateOf(pod.metadata.uid!);
    const status = computePodStatus({ pod, containers: cs, hostIP: this.o.hostIP, probes: (id) => this.probers.get(id)?.results, waiting: state.waiting, initDone, startTime: pod.status?.startTime ?? state.startTime, lastConditions: state.lastConditions });
    const text = JSON.stringify(status);
    // Unchanged since our last write, unless someone else changed it since (the node
    // lifecycle controller marks pods not Ready while this node was unreachable).
    if (text === state.lastStatus && readyOf(pod.status) === readyOf(status)) return;
    const [ns, name] = key.split('/');
    try {
      await this.o.client.patch(podsRef(ns), name, { metadata: { uid: pod.metadata.uid }, status }, { subresource: 'status', patchType: 'merge' });
      tracePod?.(key, `status written: ${(status as { phase?: string }).phase} ready ${readyOf(status)}`);
      state.lastStatus = text;
      state.lastConditions = status.conditions as Condition[];
    } catch (err) {
      if (err instanceof TugError && err.kind === 'not-found') return;
      throw err;
    }
  }

  /** Graceful deletion: preStop, stop signal, grace period, kill; then remove and finalize the object. */
  private async terminate(key: string, pod: Pod): Promise<void> {
    const uid = pod.metadata.uid!;
    if (this.terminating.has(uid)) return;
    this.terminating.add(uid);
    try {
      const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
      await this.teardown(uid, grace, pod);
      const [ns, name] = key.split('/');
      await this.o.client.delete(podsRef(ns), name, { gracePeriodSeconds: 0, uid }).catch((err) => {
        if (!(err instanceof TugError && (err.kind === 'not-found' || err.kind === 'conflict'))) throw err;
      });
    } finally {
      this.terminating.delete(uid);
    }
  }

  /** Stops (gracefully when grace > 0) and removes every container of the pod, then its directory. */
  async teardown(uid: string, graceSeconds: number, pod?: Pod): Promise<void> {
    const cs = podContainers(this.o.engine, uid);
    const deadline = Date.now() + graceSeconds * 1000;
    const running = cs.all.filter((c) => c.State.Running && c.Config.Labels[L.role] !== 'sandbox');
    await Promise.all(
      running.map(async (c) => {
        this.stopProber(c.Id);
        const spec = pod?.spec.containers.find((x) => x.name === c.Config.Labels['io.kubernetes.container.name']);
        const preStop = spec?.lifecycle?.preStop;
        if (preStop && graceSeconds > 0) {
          await runHandler(preStop, { execs: this.o.execs, containerId: c.Id, container: spec, podIP: cs.sandbox ? sandboxIP(cs.sandbox, this.o.hostIP) : '' }, Math.max(0, deadline - Date.now()));
        }
        const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
        await this.o.containers.stop(c.Id, { timeout: left }).catch(() => undefined);
      }),
    );
    for (const c of cs.all) {
      this.stopProber(c.Id);
      await this.o.containers.remove(c.Id, { force: true, removeVolumes: false }).catch((err) => this.o.log(`removing container ${c.Id.slice(0, 12)}: ${messageOf(err)}`));
    }
    // The pinned namespaces and the address last, once no container is inside.
    for (const s of [...cs.staleSandboxes, ...(cs.sandbox ? [cs.sandbox] : [])]) {
      await this.o.engine.pods.remove(s.id).catch((err) => this.o.log(`removing pod sandbox ${s.id.slice(0, 12)}: ${messageOf(err)}`));
    }
    await removePodDir(this.o.dataDir, uid);
    this.pods.delete(uid);
    this.sourceCache.release(uid);
  }

  /** An Event about the pod from this node's agent (source component kubelet, as kubectl describe shows it). */
  private podEvent(pod: Pod, type: string, reason: string, message: string): Promise<unknown> {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const ns = pod.metadata.namespace ?? 'default';
    return this.o.client.create({ group: '', version: 'v1', resource: 'events', namespace: ns }, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${pod.metadata.name}.`, namespace: ns },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: ns, name: pod.metadata.name, uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion },
      reason,
      message,
      type,
      source: { component: 'kubelet', host: this.o.nodeName },
      reportingComponent: 'kubelet',
      reportingInstance: this.o.nodeName,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
  }

  stopAll(): void {
    for (const p of this.probers.values()) p.stop();
    this.probers.clear();
    this.sourceCache.stop();
  }
}
