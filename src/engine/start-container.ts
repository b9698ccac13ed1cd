// Starting a container: rootfs (overlay), volumes, network, /etc files, the OCI
// spec, then runtime create + start. On any failure everything made so far is
// undone, so a failed start leaves no mount, netns, veth or cgroup behind.
import { join } from 'node:path';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { invalid, TugError, messageOf } from '../errdefs.js';
import { prepareContainerLayer, unmountContainerLayer } from '../snapshot/container-layer.js';
import { buildOciSpec, type ContainerSpecInput, type MountSpec } from '../runtime/spec/container-spec.js';
import { applyJoinedNamespaces, joinedNamespaces } from './shared-namespaces.js';
import { removeCgroup } from '../runtime/cgroups/index.js';
import type { PortMapping } from '../network/bridge-network.js';
import type { ContainerRecord } from './container-record.js';
import type { Lifecycle } from './lifecycle-context.js';
import { hostsLine, writeEtcFiles } from './etc-files.js';
import { resolveGroupAdd } from './group-add.js';
import { PinnedSubpaths, populateVolume } from './mounts.js';
import { linkEnv, linkHostsLines, linkedPeers } from './links.js';
import { processEnv } from './image-merge.js';
import { beginNetworking, emitConnects, releaseNetworking } from './container-networking.js';
import { hostGatewayIp } from './host-gateway.js';
import { pointDnsRedirect, usesEmbeddedDns } from './network-dns.js';
import { recordContainerAction } from './engine-metrics.js';

export function portMappingsOf(c: ContainerRecord): PortMapping[] {
  const out: PortMapping[] = [];
  const bindings = c.HostConfig.PortBindings ?? {};
  for (const [key, list] of Object.entries(bindings)) {
    const [port, proto] = key.split('/');
    for (const b of list ?? [{ HostIp: '', HostPort: '' }]) {
      out.push({ hostIp: b.HostIp ?? '', hostPort: Number(b.HostPort || 0), containerPort: Number(port), protocol: (proto as 'tcp' | 'udp') ?? 'tcp' });
    }
  }
  if (c.HostConfig.PublishAllPorts) {
    for (const key of Object.keys(c.Config.ExposedPorts ?? {})) {
      if (bindings[key]) continue;
      const [port, proto] = key.split('/');
      out.push({ hostIp: '', hostPort: 0, containerPort: Number(port), protocol: (proto as 'tcp' | 'udp') ?? 'tcp' });
    }
  }
  return out;
}

function specMounts(c: ContainerRecord, pinned: PinnedSubpaths): MountSpec[] {
  return c.Mounts.map((m) => {
    if (m.Type === 'tmpfs') {
      return { type: 'tmpfs' as const, source: 'tmpfs', destination: m.Destination, readonly: !m.RW, options: m.Mode ? m.Mode.split(',') : [] };
    }
    return { type: 'bind' as const, source: pinned.source(m), destination: m.Destination, readonly: !m.RW, options: ['rbind', 'rprivate'] };
  });
}

/** Exit code Docker reports when the process could not be started at all. */
function startFailureCode(msg: string): number {
  if (/executable file not found|no such file or directory/i.test(msg)) return 127;
  if (/permission denied/i.test(msg)) return 126;
  return 128;
}

export async function startContainerUnlocked(lc: Lifecycle, c: ContainerRecord): Promise<void> {
  const began = performance.now();
  await startContainer(lc, c);
  // dockerd times successful starts only.
  recordContainerAction('start', began);
}

async function startContainer(lc: Lifecycle, c: ContainerRecord): Promise<void> {
  const { engine } = lc;
  const id = c.Id;
  const dir = engine.containerDir(id);
  const bundleDir = join(dir, 'bundle');
  const hostNetwork = c.HostConfig.NetworkMode === 'host';
  const bridged = c.HostConfig.NetworkMode === 'bridge';
  // 'container:<id>' modes: a pod's app containers enter the sandbox's namespaces.
  const joined = joinedNamespaces(engine, c);
  // Legacy links live on the default bridge only; their targets must be running.
  const peers = bridged ? linkedPeers(engine, c) : [];
  const t0 = performance.now();
  const trace = (what: string): void => {
    if (process.env.TUG_TRACE) process.stderr.write(`trace ${id.slice(0, 12)} ${what} +${(performance.now() - t0).toFixed(1)}ms\n`);
  };
  let mounted = false;
  let attached = false;
  let created = false;
  let pinned = new PinnedSubpaths();
  let pendingNet: Promise<unknown> | undefined;
  // Networking does not need the rootfs: its namespace is made (and its
  // plugins run) while the rootfs is mounted, the spec built and runc creates
  // the container. runc only needs the namespace to exist; it must be wired
  // before `runc start` (where Docker's libnetwork does it: a prestart hook).
  // The default bridge and every user-defined network the container is on (container-networking.ts).
  const netBegun = beginNetworking(engine, c, portMappingsOf(c));
  netBegun.then(
    (p) => {
      attached = p !== undefined;
      pendingNet = p?.configured;
    },
    () => undefined, // awaited below
  );
  const hostname = c.Config.Hostname || (hostNetwork ? (await import('node:os')).hostname() : id.slice(0, 12));
  // Without the address for now: it comes from the plugins (see below).
  const etcWritten = writeEtcFiles(dir, {
    hostname,
    domainname: c.Config.Domainname,
    ip: '',
    hostNetwork,
    extraHosts: c.HostConfig.ExtraHosts,
    hostGatewayIp: hostGatewayIp(engine.network.subnet),
    linkLines: linkHostsLines(peers),
    dns: { servers: c.HostConfig.Dns, search: c.HostConfig.DnsSearch, options: c.HostConfig.DnsOptions },
    embeddedDns: usesEmbeddedDns(c),
  });
  etcWritten.catch(() => undefined); // awaited below; must not count as unhandled meanwhile
  try {
    const image = await engine.images.get(c.Image);
    const lowers = await engine.images.lowerDirs(image);
    const layer = await prepareContainerLayer(engine.root, id, lowers);
    mounted = true;
    trace('rootfs mounted');
    for (const m of c.Mounts) await populateVolume(engine.volumes, m, layer.merged);
    pinned = await PinnedSubpaths.open(engine.root, id, c.Mounts);

    // What start does not make: the user-defined endpoints and what create asked of the default bridge's.
    const { Networks, DefaultEndpoint } = c.NetworkSettings;
    const kept = { ...(Networks ? { Networks } : {}), ...(DefaultEndpoint ? { DefaultEndpoint } : {}) };
    c.NetworkSettings = { IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '', Ports: {}, SandboxKey: '', ...kept };
    let netnsPath = '';
    let netReady: Promise<void> = Promise.resolve();
    const pending = await netBegun;
    if (pending) {
      netnsPath = pending.netnsPath;
      netReady = pending.configured.then(async (r) => {
        const ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
        for (const k of Object.keys(c.Config.ExposedPorts ?? {})) ports[k] = null;
        for (const p of r.ports) {
          const key = `${p.containerPort}/${p.protocol}`;
          (ports[key] ??= []).push({ HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) });
        }
        // The top-level fields are the default bridge's (empty on user-defined networks, as Docker's).
        const b = r.bridge;
        c.NetworkSettings = { IPAddress: b?.ip ?? '', IPPrefixLen: b?.prefixLen ?? 0, Gateway: b?.gateway ?? '', MacAddress: b?.mac ?? '', Ports: ports, SandboxKey: pending.netnsPath, ...kept };
        // /etc/hosts was written before the address was known and runc has
        // bind-mounted that very inode: append the container's own line in
        // place.
        await etcWritten;
        const ownIp = b?.ip ?? [...r.endpoints.values()][0]?.ip;
        if (ownIp) await appendFile(join(dir, 'hosts'), hostsLine(ownIp, hostname, c.Config.Domainname));
        // On a user network: its DNS server up and 127.0.0.11 pointed at it before the process runs.
        if (usesEmbeddedDns(c)) await pointDnsRedirect(engine, c, pending.netnsPath);
        trace('network wired');
      });
      netReady.catch(() => undefined);
    }
    c.NetworkSettings.SandboxKey = netnsPath;
    const etc = await etcWritten;
    c.HostsPath = etc.hosts;
    c.HostnamePath = etc.hostname;
    c.ResolvConfPath = etc.resolvConf;
    // A net.* sysctl may name eth0, which exists only once the plugins ran.
    if (Object.keys(c.HostConfig.Sysctls ?? {}).some((k) => k.startsWith('net.'))) await netReady;

    const input: ContainerSpecInput = {
      id,
      rootfs: layer.merged,
      args: [c.Path, ...c.Args],
      env: processEnv([...linkEnv(peers), ...c.Config.Env]),
      cwd: c.Config.WorkingDir || '/',
      user: c.Config.User,
      tty: c.Config.Tty,
      openStdin: c.Config.OpenStdin,
      hostname,
      domainname: c.Config.Domainname,
      readonlyRootfs: c.HostConfig.ReadonlyRootfs,
      mounts: specMounts(c, pinned),
      network: pending ? { mode: 'path', netnsPath } : joined.netnsPath ? { mode: 'path', netnsPath: joined.netnsPath } : hostNetwork ? { mode: 'host' } : { mode: 'none' },
      etcFiles: { resolvConf: etc.resolvConf, hosts: etc.hosts, hostname: etc.hostname },
      resources: {
        memory: c.HostConfig.Memory || undefined,
        memorySwap: c.HostConfig.MemorySwap || undefined,
        memoryReservation: c.HostConfig.MemoryReservation || undefined,
        nanoCpus: c.HostConfig.NanoCpus || undefined,
        cpuShares: c.HostConfig.CpuShares || undefined,
        cpuPeriod: c.HostConfig.CpuPeriod || undefined,
        cpuQuota: c.HostConfig.CpuQuota || undefined,
        cpusetCpus: c.HostConfig.CpusetCpus || undefined,
        pidsLimit: c.HostConfig.PidsLimit && c.HostConfig.PidsLimit > 0 ? c.HostConfig.PidsLimit : undefined,
        memorySwappiness: c.HostConfig.MemorySwappiness ?? undefined,
        cpuRealtimePeriod: c.HostConfig.CpuRealtimePeriod || undefined,
        cpuRealtimeRuntime: c.HostConfig.CpuRealtimeRuntime || undefined,
      },
      cgroupsPath: c.Tug.cgroupsPath,
      privileged: c.HostConfig.Privileged,
      capAdd: c.HostConfig.CapAdd ?? [],
      capDrop: c.HostConfig.CapDrop ?? [],
      securityOpt: c.HostConfig.SecurityOpt ?? [],
      init: Boolean(c.HostConfig.Init),
      sysctls: c.HostConfig.Sysctls,
      ulimits: c.HostConfig.Ulimits ?? undefined,
      oomScoreAdj: c.HostConfig.OomScoreAdj || undefined,
      shmSize: c.HostConfig.ShmSize || undefined,
      devices: c.HostConfig.Devices ?? undefined,
      hostPid: c.HostConfig.PidMode === 'host',
      hostIpc: c.HostConfig.IpcMode === 'host',
      hostUts: c.HostConfig.UTSMode === 'host',
      // Records made before tug stored the mode have none: the engine's default.
      cgroupns: c.HostConfig.CgroupnsMode === 'private' || c.HostConfig.CgroupnsMode === 'host' ? c.HostConfig.CgroupnsMode : undefined,
      deviceCgroupRules: c.HostConfig.DeviceCgroupRules ?? undefined,
    };
    trace('netns and etc files ready');
    const spec = await buildOciSpec(input);
    const extraGids = await resolveGroupAdd(layer.merged, c.HostConfig.GroupAdd ?? []);
    if (extraGids.length) spec.process.user.additionalGids = [...new Set([...(spec.process.user.additionalGids ?? []), ...extraGids])];
    applyJoinedNamespaces(spec, joined);
    // runc sizes the pty before the process starts, so `stty size` is right at once
    // (the CLI's later resize call races with short commands).
    const consoleSize = c.HostConfig.ConsoleSize;
    if (c.Config.Tty && Array.isArray(consoleSize) && consoleSize[0] > 0 && consoleSize[1] > 0) {
      Object.assign(spec.process, { consoleSize: { height: consoleSize[0], width: consoleSize[1] } });
    }
    trace('spec built');
    await mkdir(bundleDir, { recursive: true, mode: 0o700 });
    // Regenerated on every start and read by the runtime right below, so a
    // plain write is enough: no fsync pair on the start path. 0600: it holds
    // the container's environment (Docker's bundle config.json is 0600 too).
    await writeFile(join(bundleDir, 'config.json'), JSON.stringify(spec), { mode: 0o600 });
    await engine.runtime.delete(id, { force: true }).catch(() => undefined);
    const { pid } = await engine.runtime.create(id, {
      bundleDir,
      tty: c.Config.Tty,
      openStdin: c.Config.OpenStdin,
      stdinOnce: c.Config.StdinOnce,
      logPath: c.LogPath,
    });
    created = true;
    await pinned.close(); // runc has mounted them
    trace('runtime created');
    await netReady;
    await lc.attaches.connect(engine.runtime, id);
    await engine.runtime.start(id);
    trace('runtime started');
    c.State = {
      ...c.State,
      Status: 'running',
      Running: true,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: pid,
      ExitCode: 0,
      Error: '',
      StartedAt: new Date().toISOString(),
    };
    lc.health.start(c);
    await engine.containers.save(c);
    if (pending) emitConnects(engine, c, 'connect');
    engine.emitContainer(c, 'start');
    lc.watchExit(c.Id);
  } catch (err) {
    const msg = messageOf(err);
    await pinned.close();
    if (created) await engine.runtime.delete(id, { force: true }).catch(() => undefined);
    await removeCgroup(c.Tug.cgroupsPath).catch(() => undefined);
    // Let an attach still under way finish (a failed one undoes itself) before detaching.
    await netBegun?.catch(() => undefined);
    await etcWritten.catch(() => undefined);
    if (pendingNet) await pendingNet.catch(() => undefined);
    if (attached) await releaseNetworking(engine, c).catch(() => undefined);
    if (mounted) await unmountContainerLayer(engine.root, id).catch(() => undefined);
    lc.attaches.fail(id);
    const detailCode = err instanceof TugError ? Number(err.detail?.exitCode) : NaN;
    const code = Number.isInteger(detailCode) ? detailCode : startFailureCode(msg);
    c.State = { ...c.State, Status: c.State.Status === 'created' ? 'created' : 'exited', Running: false, Restarting: false, Pid: 0, ExitCode: code, Error: msg };
    c.NetworkSettings.Ports = {};
    await engine.containers.save(c);
    lc.waiters.notify(id, 'next-exit', code, msg);
    // docker run --rm waits for removal: a container that cannot start is removed, as Docker does.
    if (c.HostConfig.AutoRemove) await lc.removeUnlocked(c, { removeVolumes: true }).catch(() => undefined);
    if (err instanceof TugError && err.kind !== 'internal') throw err;
    if (code === 127 || code === 126) throw invalid(`failed to create task for container: ${msg}`);
    throw new TugError('internal', `failed to start container ${id.slice(0, 12)}: ${msg}`);
  }
}
