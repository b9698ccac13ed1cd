// Renders container records in the Docker API's shapes: the list entry of
// /containers/json (with its human Status) and the full inspect document.
import type { ContainerRecord } from './container-record.js';
import { zeroTime } from './container-record.js';
import { humanDuration } from '../util/human-duration.js';
import { hostConfigView } from './host-config-view.js';
import { isJoinMode } from './shared-namespaces.js';

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

/** A built-in network's id by name ('bridge', 'host', 'none'), for NetworkSettings.Networks[*].NetworkID. */
export type BuiltinNetworkIds = (name: string) => string;

export function listEntry(c: ContainerRecord, imageName: string, sizes?: { rw: number; rootFs: number }, networkIds?: BuiltinNetworkIds): Record<string, unknown> {
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
      Networks: networksOf(c, 'list', '', networkIds),
    },
    Mounts: c.Mounts.map(mountView),
    ...(sizes ? { SizeRw: sizes.rw, SizeRootFs: sizes.rootFs } : {}),
  };
}

function mountView(m: ContainerRecord['Mounts'][number]): Record<string, unknown> {
  return { Type: m.Type, Name: m.Name, Source: m.Source, Destination: m.Destination, Driver: m.Driver, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation };
}

/**
 * NetworkSettings.Networks: the mode's built-in network (from the top-level
 * fields) when the container is on one, then its user-defined networks.
 * `view` 'inspect' adds the short id to Aliases before API 1.45 (as dockerd
 * 20.10 does; from 1.45 Aliases are exactly those asked for) and, from API
 * 1.44, DNSNames; the list shows Aliases as null, as dockerd's does.
 */
function networksOf(c: ContainerRecord, view: 'list' | 'inspect' = 'inspect', apiVersion = '', networkIds?: BuiltinNetworkIds): Record<string, unknown> {
  const mode = c.HostConfig.NetworkMode;
  const n = c.NetworkSettings;
  const out: Record<string, unknown> = {};
  const user = n.Networks ?? {};
  if (!user[mode] && !isJoinMode(mode)) {
    out[mode] = {
      IPAMConfig: n.DefaultEndpoint?.IPAMConfig ?? null,
      Links: null,
      Aliases: null,
      NetworkID: networkIds && ['bridge', 'host', 'none'].includes(mode) ? networkIds(mode) : mode,
      EndpointID: c.State.Running && n.IPAddress ? c.Id.slice(0, 32) : '',
      Gateway: n.Gateway,
      IPAddress: n.IPAddress,
      IPPrefixLen: n.IPPrefixLen,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      MacAddress: n.MacAddress,
      DriverOpts: n.DefaultEndpoint?.DriverOpts ?? null,
    };
  }
  const shortId = c.Id.slice(0, 12);
  const dnsNames = apiAtLeast(apiVersion, 1, 44);
  for (const [name, ep] of Object.entries(user)) {
    // API 1.45 made Aliases exactly what was asked for; the short id lives in DNSNames since 1.44.
    const asked = ep.Aliases?.length ? ep.Aliases : null;
    const aliases = view === 'list' ? null : apiAtLeast(apiVersion, 1, 45) ? asked : [...(ep.Aliases ?? []), ...((ep.Aliases ?? []).includes(shortId) ? [] : [shortId])];
    out[name] = {
      IPAMConfig: ep.IPAMConfig,
      Links: ep.Links,
      Aliases: aliases,
      NetworkID: ep.NetworkID,
      EndpointID: ep.EndpointID,
      Gateway: ep.Gateway,
      IPAddress: ep.IPAddress,
      IPPrefixLen: ep.IPPrefixLen,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      // Before the endpoint is live, the MAC asked for (as dockerd shows it from API 1.44).
      MacAddress: ep.MacAddress || ep.DesiredMacAddress || '',
      DriverOpts: ep.DriverOpts,
      ...(dnsNames && view === 'inspect' ? { DNSNames: ep.EndpointID ? [c.Name.slice(1), ...(ep.Aliases ?? []), shortId] : null } : {}),
    };
  }
  return out;
}

function apiAtLeast(v: string, major: number, minor: number): boolean {
  if (!v) return true;
  const [a = 0, b = 0] = v.split('.').map(Number);
  return a !== major ? a > major : b >= minor;
}

export function inspectView(c: ContainerRecord, execIds: string[], apiVersion = '', networkIds?: BuiltinNetworkIds): Record<string, unknown> {
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
      Networks: networksOf(c, 'inspect', apiVersion, networkIds),
    },
  };
}
