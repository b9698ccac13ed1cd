// Joining another container's namespaces: NetworkMode 'container:<ref>',
// IpcMode 'container:<ref>' / 'shareable' and PidMode 'container:<ref>'. This is how a pod is built: a
// sandbox container owns the network and IPC namespaces and every app
// container of the pod joins them (Docker's and the kubelet's dockershim shape).
import { conflict, invalid } from '../errdefs.js';
import type { OciRuntimeSpec } from '../runtime/spec/oci-runtime-types.js';
import type { Engine } from './engine.js';
import type { ContainerRecord, HostConfig } from './container-record.js';

const prefix = 'container:';
const pathPrefix = 'ns:';

/** A mode that enters a namespace made elsewhere: 'container:<ref>' or 'ns:<path>'. */
export function isJoinMode(mode: unknown): boolean {
  return typeof mode === 'string' && (mode.startsWith(prefix) || mode.startsWith(pathPrefix));
}

/** The file a mode like 'ns:<path>' names, or undefined for other modes. */
function joinedPath(mode: unknown): string | undefined {
  return typeof mode === 'string' && mode.startsWith(pathPrefix) ? mode.slice(pathPrefix.length) : undefined;
}

/** The container a mode like 'container:<ref>' names, or undefined for other modes. */
function joinedRef(mode: unknown): string | undefined {
  return typeof mode === 'string' && mode.startsWith(prefix) ? mode.slice(prefix.length) : undefined;
}

/**
 * At create: checks the joined container exists and pins the mode to its full
 * id, so a later rename of the target cannot re-point the join (Docker stores the id too).
 */
export function resolveJoinedModes(engine: Engine, hc: HostConfig): void {
  for (const field of ['NetworkMode', 'IpcMode', 'PidMode', 'UTSMode'] as const) {
    const mode = hc[field];
    const path = joinedPath(mode);
    if (path !== undefined) {
      if (!path.startsWith('/')) throw invalid(`${field} "${String(mode)}": the namespace path must be absolute`);
      continue;
    }
    if (field === 'UTSMode') continue;
    if (field === 'IpcMode' && mode !== undefined && mode !== '' && !['private', 'shareable', 'host', 'none'].includes(String(mode)) && !joinedRef(mode)) {
      throw invalid(`invalid IPC mode: ${String(mode)}`);
    }
    // Docker's runconfig wording.
    if (field === 'PidMode' && mode !== undefined && mode !== null && mode !== '' && mode !== 'host' && !joinedRef(mode)) {
      throw invalid(`invalid PID mode: ${String(mode)}`);
    }
    const ref = joinedRef(mode);
    if (ref === undefined) continue;
    if (!ref) throw invalid(`${field} "${String(mode)}" names no container`);
    const target = engine.containers.find(ref);
    if (!target) throw invalid(`${field}: No such container: ${ref}`);
    hc[field] = `${prefix}${target.Id}`;
  }
}

export interface JoinedNamespaces {
  /** The network namespace file of the joined container. */
  netnsPath?: string;
  /** /proc/<pid>/ns/ipc of the joined container. */
  ipcPath?: string;
  /** /proc/<pid>/ns/pid of the joined container. */
  pidPath?: string;
  /** A pinned UTS namespace. */
  utsPath?: string;
}

/** At start: the namespaces to enter; the joined containers must be running. */
export function joinedNamespaces(engine: Engine, c: ContainerRecord): JoinedNamespaces {
  const out: JoinedNamespaces = {
    netnsPath: joinedPath(c.HostConfig.NetworkMode),
    ipcPath: joinedPath(c.HostConfig.IpcMode),
    pidPath: joinedPath(c.HostConfig.PidMode),
    utsPath: joinedPath(c.HostConfig.UTSMode),
  };
  const netRef = joinedRef(c.HostConfig.NetworkMode);
  if (netRef) {
    const target = runningTarget(engine, netRef, 'network');
    if (!target.NetworkSettings?.SandboxKey) throw conflict(`cannot join the network of container ${netRef.slice(0, 12)}: it has no network namespace`);
    out.netnsPath = target.NetworkSettings.SandboxKey;
  }
  const ipcRef = joinedRef(c.HostConfig.IpcMode);
  if (ipcRef) out.ipcPath = `/proc/${runningTarget(engine, ipcRef, 'IPC').State.Pid}/ns/ipc`;
  const pidRef = joinedRef(c.HostConfig.PidMode);
  if (pidRef) out.pidPath = `/proc/${runningTarget(engine, pidRef, 'PID').State.Pid}/ns/pid`;
  return out;
}

function runningTarget(engine: Engine, ref: string, what: string): ContainerRecord {
  const target = engine.containers.find(ref);
  if (!target) throw conflict(`cannot join the ${what} namespace of container ${ref.slice(0, 12)}: no such container`);
  if (!target.State.Running || !target.State.Pid) throw conflict(`cannot join the ${what} namespace of container ${ref.slice(0, 12)}: it is not running`);
  return target;
}

/** Points the spec's IPC and PID namespaces at the joined ones (the spec builder makes new ones). */
export function applyJoinedNamespaces(spec: OciRuntimeSpec, joined: JoinedNamespaces): void {
  const paths: Partial<Record<string, string>> = { ipc: joined.ipcPath, pid: joined.pidPath, uts: joined.utsPath };
  spec.linux.namespaces = spec.linux.namespaces.map((ns) => (paths[ns.type] ? { type: ns.type, path: paths[ns.type] } : ns));
}
