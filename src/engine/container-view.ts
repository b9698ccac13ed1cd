// Renders container records in the Docker API's shapes: the list entry of
// /containers/json (with its human Status) and the full inspect document.
import type { ContainerRecord } from './container-record.js';
import { zeroTime } from './container-record.js';
import { humanDuration } from '../util/human-duration.js';
import { hostConfigView } from './host-config-view.js';

export function statusText(c: ContainerRecord, now = Date.now()): string {
  const st = c.State;
  if (st.Status === 'restarting') return `Restarting (${st.ExitCode}) ${humanDuration(now - Date.parse(st.FinishedAt))} ago`;
  if (st.Running) {
    const up = `Up ${humanDuration(now - Date.parse(st.StartedAt))}`;
    if (st.Paused) return `${up} (Paused)`;
    if (st.Health) return `${up} (${st.Health.Status === 'starting' ? 'health: starting' : st.Health.Status})`;
    return up;
  }
  if (st.Status === 'removing') return 'Removal In Progress';
  if (st.Status === 'dead') return 'Dead';
  if (st.Status === 'created' || st.FinishedAt === zeroTime) return 'Created';
  return `Exited (${st.ExitCode}) ${humanDuration(now - Date.parse(st.FinishedAt))} ago`;
}

export function portList(c: ContainerRecord): Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }> {
  const out: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }> = [];
  const ports = c.State.Running ? c.NetworkSettings.Ports : {};
  const keys = new Set([...Object.keys(c.Config.ExposedPorts ?? {}), ...Object.keys(ports ?? {})]);
  for (const key of keys) {
    const [p, type] = key.split('/');
    const bindings = ports?.[key];
    if (bindings && bindings.length) {
      for (const b of bindings) out.push({ IP: b.HostIp || '0.0.0.0', PrivatePort: Number(p), PublicPort: Number(b.HostPort), Type: type ?? 'tcp' });
    } else out.push({ PrivatePort: Number(p), Type: type ?? 'tcp' });
  }
  return out;
}

export function listEntry(c: ContainerRecord, imageName: string, sizes?: { rw: number; rootFs: number }): Record<string, unknown> {
  // As dockerd renders it: arguments with spaces in single quotes.
  const cmd = [c.Path, ...c.Args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');
  return {
    Id: c.Id,
    Names: [c.Name],
    Image: imageName,
    ImageID: c.Image,
    Command: cmd,
    Created: Math.floor(Date.parse(c.Created) / 1000),
    Ports: portList(c),
    Labels: c.Config.Labels ?? {},
    State: c.State.Status,
    Status: statusText(c),
    HostConfig: { NetworkMode: c.HostConfig.NetworkMode },
    NetworkSettings: {
      Networks: networksOf(c),
    },
    Mounts: c.Mounts.map(mountView),
    ...(sizes ? { SizeRw: sizes.rw, SizeRootFs: sizes.rootFs } : {}),
  };
}

function mountView(m: ContainerRecord['Mounts'][number]): Record<string, unknown> {
  return { Type: m.Type, Name: m.Name, Source: m.Source, Destination: m.Destination, Driver: m.Driver, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation };
}

function networksOf(c: ContainerRecord): Record<string, unknown> {
  const mode = c.HostConfig.NetworkMode;
  const n = c.NetworkSettings;
  return {
    [mode]: {
      IPAMConfig: null,
      Links: null,
      Aliases: null,
      NetworkID: mode,
      EndpointID: c.State.Running && n.IPAddress ? c.Id.slice(0, 32) : '',
      Gateway: n.Gateway,
      IPAddress: n.IPAddress,
      IPPrefixLen: n.IPPrefixLen,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      MacAddress: n.MacAddress,
    },
  };
}

export function inspectView(c: ContainerRecord, execIds: string[]): Record<string, unknown> {
  const n = c.NetworkSettings;
  return {
    Id: c.Id,
    Created: c.Created,
    Path: c.Path,
    Args: c.Args,
    State: { ...c.State },
    Image: c.Image,
    ResolvConfPath: c.ResolvConfPath,
    HostnamePath: c.HostnamePath,
    HostsPath: c.HostsPath,
    LogPath: c.LogPath,
    Name: c.Name,
    RestartCount: c.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: execIds.length ? execIds : null,
    HostConfig: hostConfigView(c.HostConfig),
    GraphDriver: { Name: 'overlay2', Data: null },
    Mounts: c.Mounts.map(mountView),
    Config: c.Config,
    NetworkSettings: {
      Bridge: '',
      SandboxID: c.State.Running ? c.Id : '',
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      Ports: c.State.Running ? n.Ports : {},
      SandboxKey: c.State.Running ? n.SandboxKey : '',
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: '',
      Gateway: n.Gateway,
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: n.IPAddress,
      IPPrefixLen: n.IPPrefixLen,
      IPv6Gateway: '',
      MacAddress: n.MacAddress,
      Networks: networksOf(c),
    },
  };
}
