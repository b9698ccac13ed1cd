// The engine: the stores and parts that own containers, images, volumes and
// the network on a host. Every path to a running container (tug run, docker
// run, a build step, a pod) goes through its door, the ContainerService
// (container-service.ts), which owns the containers' lifecycle state.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageStore } from '../image/image-store.js';
import { Runtime } from '../runtime/runtime.js';
import { BridgeNetwork } from '../network/bridge-network.js';
import { isolationChainName } from '../network/isolation-rules.js';
import { NetworkService } from './network-service.js';
import { createEngineDns, startNetworkDns, type EngineDns } from './network-dns.js';
import { removeCgroup } from '../runtime/cgroups/index.js';
import { ContainerStore } from './container-store.js';
import { VolumeStore } from './volume-store.js';
import { EventBus } from './events.js';
import { KeyedLock } from './keyed-lock.js';
import type { ContainerRecord } from './container-record.js';
import { runcPath } from './preflight.js';
import { runtimeStateDir } from './run-dir.js';
import { RUNTIME_STATE_MODE, secureEngineRoot } from './state-modes.js';
import { ensureDir } from '../util/dir-mode.js';
import { installSpawnHelper } from '../runtime/spawner/spawn-helper.js';
import { PodSandboxes } from './pod-sandboxes.js';

export interface EngineOptions {
  root: string;
  bridgeName: string;
  subnet: string;
  /** Test daemons: on shutdown remove every container and the network. */
  ephemeral?: boolean;
  /** The default bridge's MTU (a cluster node whose pods' traffic is tunnelled). */
  mtu?: number;
  /** Destinations the default bridge reaches without NAT (a cluster node: the cluster's pod range). */
  noMasqueradeTo?: string[];
}

export class Engine {
  readonly events = new EventBus();
  readonly lock = new KeyedLock();
  /** Per-daemon cgroup parent, so side-by-side daemons never share cgroups. */
  readonly cgroupParent: string;
  readonly startedAt = new Date();
  shuttingDown = false;
  /** User-defined networks (and the lookups over the built-in ones). */
  networks!: NetworkService;
  /** The embedded DNS servers of the user-defined networks (network-dns.ts). */
  readonly dns: EngineDns = createEngineDns(this);
  /** Pods' pinned namespaces and addresses, without sandbox containers (pod-sandboxes.ts). */
  pods!: PodSandboxes;

  private constructor(
    readonly opts: EngineOptions,
    readonly images: ImageStore,
    readonly runtime: Runtime,
    readonly network: BridgeNetwork,
    readonly containers: ContainerStore,
    readonly volumes: VolumeStore,
  ) {
    this.cgroupParent = `/tug-${createHash('sha256').update(opts.root).digest('hex').slice(0, 10)}`;
    images.setInUseCheck((imageId) => containers.all().some((c) => c.Image === imageId));
  }

  static async open(opts: EngineOptions): Promise<Engine> {
    // Before this process grows: every runc, mount and plugin spawn goes through it.
    installSpawnHelper();
    await secureEngineRoot(opts.root);
    const [images, containers, volumes] = await Promise.all([
      ImageStore.open(opts.root),
      ContainerStore.open(opts.root),
      VolumeStore.open(opts.root),
    ]);
    const stateDir = await runtimeStateDir(opts.root);
    await ensureDir(stateDir, RUNTIME_STATE_MODE);
    const runtime = new Runtime({ stateDir, runcPath: runcPath() });
    // A member of the daemon's isolation chain too: user networks cannot reach it, nor it them.
    const network = new BridgeNetwork({ root: opts.root, bridgeName: opts.bridgeName, subnet: opts.subnet, isolationChain: isolationChainName(opts.root), mtu: opts.mtu, noMasqueradeTo: opts.noMasqueradeTo });
    const engine = new Engine(opts, images, runtime, network, containers, volumes);
    engine.pods = await PodSandboxes.open(stateDir, network);
    engine.networks = await NetworkService.open({
      root: opts.root,
      defaultBridge: network,
      events: engine.events,
      containers: () => containers.all(),
      onReady: (id) => startNetworkDns(engine, id),
      onGone: (id) => engine.dns.stop(id),
    });
    return engine;
  }

  get root(): string {
    return this.opts.root;
  }

  containerDir(id: string): string {
    return this.containers.containerDir(id);
  }

  cgroupsPathFor(id: string): string {
    return `${this.cgroupParent}/${id}`;
  }

  emitContainer(c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.events.emit('container', action, c.Id, {
      ...c.Config.Labels,
      image: c.Config.Image,
      name: c.Name.slice(1),
      ...extra,
    });
  }

  /**
   * Removes what the engine keeps outside its root: its cgroup parent and its
   * runtime state dir (on tmpfs, see run-dir.ts). Only for an engine that
   * holds no container any more.
   */
  async releaseHostState(): Promise<void> {
    if (this.containers.all().length > 0 || this.pods.all().length > 0) return;
    await removeCgroup(this.cgroupParent);
    if (this.runtime.layout.stateDir !== join(this.opts.root, 'runtime')) await rm(this.runtime.layout.stateDir, { recursive: true, force: true });
  }
}
