// `run`/`create` flags → the Engine API's container create body
// (Config + HostConfig), following docker's cli/command/container/opts.go.
import { readFile } from 'node:fs/promises';
import { flags, type Opts, UsageError } from '../args.js';
import { ramInBytes } from '../render/units.js';
import { HEALTH_FLAGS, healthcheckFromFlags } from './health-flags.js';

/** The flags `run` and `create` share, with their --help lines (docker's wording where docker has the flag). */
export const CREATE_FLAGS = flags(
  ['bool:interactive,i', 'Keep STDIN open even if not attached'],
  ['bool:tty,t', 'Allocate a pseudo-TTY'],
  ['bool:rm', 'Automatically remove the container and its associated anonymous volumes when it exits'],
  ['bool:init', 'Run an init inside the container that forwards signals and reaps processes'],
  ['bool:read-only', "Mount the container's root filesystem as read only"],
  ['bool:publish-all,P', 'Publish all exposed ports to random ports'],
  ['bool:privileged', 'Give extended privileges to this container'],
  ['bool:quiet,q', 'Suppress the pull output'],
  ['bool:help', 'Print usage'],
  ['string:name', 'Assign a name to the container'],
  ['string:workdir,w', 'Working directory inside the container'],
  ['string:user,u', 'Username or UID (format: <name|uid>[:<group|gid>])'],
  ['string:entrypoint', 'Overwrite the default ENTRYPOINT of the image'],
  ['string:hostname,h', 'Container host name'],
  ['string:network:network', 'Connect a container to a network ("bridge", "host", "none" or "container:<name|id>")'],
  ['string:net:network', 'Connect a container to a network (same as --network)'],
  ['string:ip', 'IPv4 address (e.g., 172.30.100.104)'],
  ['string:mac-address', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)'],
  ['list:network-alias', 'Add network-scoped alias for the container'],
  ['string:restart', 'Restart policy to apply when a container exits (default "no")'],
  ['string:memory,m:bytes', 'Memory limit'],
  ['string:memory-swap:bytes', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap"],
  ['string:memory-reservation:bytes', 'Memory soft limit'],
  ['string:cpus:decimal', 'Number of CPUs'],
  ['string:cpu-shares,c:int', 'CPU shares (relative weight)'],
  ['string:cpuset-cpus', 'CPUs in which to allow execution (0-3, 0,1)'],
  ['string:pids-limit:int', 'Tune container pids limit (set -1 for unlimited)'],
  ['string:stop-signal', 'Signal to stop the container'],
  ['string:stop-timeout:int', 'Timeout (in seconds) to stop a container'],
  ['string:platform', 'Set platform if server is multi-platform capable'],
  ['string:pid', 'PID namespace to use'],
  ['string:ipc', 'IPC mode to use'],
  ['string:shm-size:bytes', 'Size of /dev/shm'],
  ['string:cidfile', 'Write the container ID to the file'],
  ['string:pull', 'Pull image before creating ("always", "missing", "never") (default "missing")'],
  ['string:detach-keys', 'Override the key sequence for detaching a container'],
  ['string:log-driver', 'Logging driver for the container (tug keeps json-file logs whatever is named)'],
  ['list:env,e', 'Set environment variables'],
  ['list:env-file', 'Read in a file of environment variables'],
  ['list:label,l', 'Set meta data on a container'],
  ['list:tmpfs', 'Mount a tmpfs directory'],
  ['list:volume,v', 'Bind mount a volume'],
  ['list:mount:mount', 'Attach a filesystem mount to the container'],
  ['list:publish,p', "Publish a container's port(s) to the host"],
  ['list:expose', 'Expose a port or a range of ports'],
  ['list:cap-add', 'Add Linux capabilities'],
  ['list:cap-drop', 'Drop Linux capabilities'],
  ['list:security-opt', 'Security Options'],
  ['list:attach,a', 'Attach to STDIN, STDOUT or STDERR'],
  ['list:dns', 'Set custom DNS servers'],
  ['list:add-host', 'Add a custom host-to-IP mapping (host:ip)'],
  ['list:sysctl:map', 'Sysctl options'],
  ['list:group-add', 'Add additional groups to join'],
  ['list:ulimit:ulimit', 'Ulimit options'],
  ['list:log-opt', 'Log driver options'],
  ...HEALTH_FLAGS,
);

export interface CreateRequest {
  body: Record<string, any>;
  name?: string;
  platform?: string;
  image: string;
}

/** --network-alias and --ip go to the --network's endpoint, as the docker CLI sends them. */
function endpointsConfig(network: string | undefined, aliases: string[], ip: string | undefined): Record<string, unknown> | undefined {
  if (!aliases.length && !ip) return undefined;
  const net = network ?? 'default';
  if (aliases.length && (net === 'default' || net === 'bridge')) throw new UsageError('network-scoped aliases are only supported for user-defined networks');
  return { EndpointsConfig: { [net]: { Aliases: aliases.length ? aliases : undefined, IPAMConfig: ip ? { IPv4Address: ip } : undefined } } };
}

/** "KEY=VAL" stays; a bare "KEY" takes the local value or is dropped (docker's rule). */
function envEntry(e: string): string | undefined {
  if (e.includes('=')) return e;
  const v = process.env[e];
  return v === undefined ? undefined : `${e}=${v}`;
}

export async function readEnvFile(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch((e: Error) => {
    throw new UsageError(`open ${path}: ${e.message.includes('ENOENT') ? 'no such file or directory' : e.message}`);
  });
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s+/, '');
    if (!line || line.startsWith('#')) continue;
    const e = envEntry(line);
    if (e) out.push(e);
  }
  return out;
}

export function parseEnvList(list: string[]): string[] {
  return list.map(envEntry).filter((e): e is string => e !== undefined);
}

function labelsOf(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const eq = l.indexOf('=');
    out[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  return out;
}

function range(s: string, flag: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new UsageError(`invalid argument "${s}" for "--${flag}": invalid port "${s}"`);
  const a = Number(m[1]);
  const b = m[2] ? Number(m[2]) : a;
  if (b < a || b > 65535) throw new UsageError(`invalid argument "${s}" for "--${flag}": invalid range`);
  return [a, b];
}

/** nat.ParsePortSpec: "[ip:][hostPort:]containerPort[/proto]", ranges allowed. */
export function parsePortSpec(spec: string): Array<{ port: string; hostIp: string; hostPort: string }> {
  let rest = spec;
  let proto = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    proto = rest.slice(slash + 1).toLowerCase();
    rest = rest.slice(0, slash);
    if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new UsageError(`invalid argument "${spec}" for "-p, --publish" flag: invalid proto: ${proto}`);
  }
  let hostIp = '';
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(rest);
  if (v6) {
    hostIp = v6[1]!;
    rest = v6[2]!;
  }
  const parts = rest.split(':');
  const containerPart = parts.pop()!;
  const hostPart = parts.length ? parts.pop()! : '';
  if (parts.length) hostIp = parts.join(':');
  const [c0, c1] = range(containerPart, 'publish');
  const out: Array<{ port: string; hostIp: string; hostPort: string }> = [];
  if (hostPart && hostPart.includes('-')) {
    const [h0, h1] = range(hostPart, 'publish');
    if (c1 - c0 !== h1 - h0 && c1 !== c0) throw new UsageError(`invalid ranges specified for container and host Ports: ${containerPart} and ${hostPart}`);
    for (let p = c0; p <= c1; p++) {
      out.push({ port: `${p}/${proto}`, hostIp, hostPort: c0 === c1 ? hostPart : String(h0 + p - c0) });
    }
  } else {
    if (hostPart) range(hostPart, 'publish');
    for (let p = c0; p <= c1; p++) out.push({ port: `${p}/${proto}`, hostIp, hostPort: hostPart });
  }
  return out;
}

/** --mount type=bind,source=/a,target=/b,readonly */
export function parseMount(spec: string): Record<string, any> {
  const m: Record<string, any> = { Type: 'volume' };
  for (const field of spec.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const val = eq < 0 ? undefined : field.slice(eq + 1);
    switch (key) {
      case 'type':
        m.Type = val;
        break;
      case 'source':
      case 'src':
        m.Source = val;
        break;
      case 'target':
      case 'destination':
      case 'dst':
        m.Target = val;
        break;
      case 'readonly':
      case 'ro':
        m.ReadOnly = val === undefined || val === 'true' || val === '1';
        break;
      case 'bind-propagation':
        m.BindOptions = { ...(m.BindOptions ?? {}), Propagation: val };
        break;
      case 'volume-nocopy':
        m.VolumeOptions = { ...(m.VolumeOptions ?? {}), NoCopy: val === undefined || val === 'true' };
        break;
      case 'tmpfs-size':
        m.TmpfsOptions = { ...(m.TmpfsOptions ?? {}), SizeBytes: ramInBytes(val ?? '', 'mount') };
        break;
      case 'tmpfs-mode':
        m.TmpfsOptions = { ...(m.TmpfsOptions ?? {}), Mode: parseInt(val ?? '', 8) };
        break;
      default:
        throw new UsageError(`invalid argument "${spec}" for "--mount" flag: unexpected key '${key}' in '${field}'`);
    }
  }
  if (!m.Target) throw new UsageError(`invalid argument "${spec}" for "--mount" flag: target is required`);
  return m;
}

export function parseRestart(s: string): { Name: string; MaximumRetryCount: number } {
  const [name, count] = s.split(':');
  if (!['no', 'always', 'unless-stopped', 'on-failure', ''].includes(name!)) {
    throw new UsageError(`invalid restart policy '${s}'`);
  }
  if (count !== undefined && name !== 'on-failure') throw new UsageError(`invalid restart policy '${s}': maximum retry count can only be used with 'on-failure'`);
  return { Name: name === 'no' ? 'no' : name!, MaximumRetryCount: count ? Number(count) : 0 };
}

export function parseCpus(s: string): number {
  const n = Number(s);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`invalid argument "${s}" for "--cpus" flag: failed to parse ${s} as a rational number`);
  return Math.round(n * 1e9);
}

const ULIMIT_NAMES = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

/** --ulimit name=soft[:hard] (go-units ParseUlimit): one value sets both limits. */
export function parseUlimit(spec: string): { Name: string; Soft: number; Hard: number } {
  const bad = (why: string): UsageError => new UsageError(`invalid argument "${spec}" for "--ulimit" flag: ${why}`);
  const eq = spec.indexOf('=');
  if (eq < 0) throw bad(`invalid ulimit argument: ${spec}`);
  const name = spec.slice(0, eq);
  if (!ULIMIT_NAMES.has(name)) throw bad(`invalid ulimit type: ${name}`);
  const parts = spec.slice(eq + 1).split(':');
  if (parts.length > 2 || !parts.every((p) => /^-?\d+$/.test(p))) throw bad(`invalid ulimit argument: ${spec}`);
  const soft = Number(parts[0]);
  const hard = parts.length === 2 ? Number(parts[1]) : soft;
  if (soft > hard) throw bad(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: name, Soft: soft, Hard: hard };
}

function intFlag(o: Opts, name: string): number | undefined {
  return o.int(name);
}

export async function buildCreateRequest(o: Opts, detach: boolean): Promise<CreateRequest> {
  const [image, ...cmd] = o.args;
  const env = [...(await Promise.all(o.list('env-file').map(readEnvFile))).flat(), ...parseEnvList(o.list('env'))];
  const interactive = o.bool('interactive');
  const attach = o.list('attach').map((a) => a.toLowerCase());
  for (const a of attach) if (!['stdin', 'stdout', 'stderr'].includes(a)) throw new UsageError(`invalid argument "${a}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
  if (detach && attach.length) throw new UsageError('Conflicting options: -a and -d');
  const attachStdin = detach ? false : attach.length ? attach.includes('stdin') : interactive;
  const attachStdout = detach ? false : attach.length ? attach.includes('stdout') : true;
  const attachStderr = detach ? false : attach.length ? attach.includes('stderr') : true;

  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of o.list('publish')) {
    for (const b of parsePortSpec(p)) {
      exposed[b.port] = {};
      (bindings[b.port] ??= []).push({ HostIp: b.hostIp, HostPort: b.hostPort });
    }
  }
  for (const e of o.list('expose')) {
    const [p, proto = 'tcp'] = e.split('/');
    const [a, b] = range(p!, 'expose');
    for (let i = a; i <= b; i++) exposed[`${i}/${proto}`] = {};
  }

  const binds: string[] = [];
  const volumes: Record<string, object> = {};
  for (const v of o.list('volume')) {
    // "/data" alone is an anonymous volume; anything with a source is a bind or named volume.
    if (v.split(':').length === 1 && v.startsWith('/')) volumes[v] = {};
    else binds.push(v);
  }
  const tmpfs: Record<string, string> = {};
  for (const t of o.list('tmpfs')) {
    const colon = t.indexOf(':');
    tmpfs[colon < 0 ? t : t.slice(0, colon)] = colon < 0 ? '' : t.slice(colon + 1);
  }

  const memSwap = o.str('memory-swap');
  const entrypoint = o.str('entrypoint');
  const stopTimeout = intFlag(o, 'stop-timeout');
  const cpuShares = intFlag(o, 'cpu-shares');
  const pids = intFlag(o, 'pids-limit');
  const network = o.str('network') ?? o.str('net');
  const sysctls = labelsOf(o.list('sysctl'));

  const hostConfig: Record<string, any> = {
    Binds: binds.length ? binds : undefined,
    PortBindings: Object.keys(bindings).length ? bindings : undefined,
    PublishAllPorts: o.bool('publish-all') || undefined,
    AutoRemove: o.bool('rm') || undefined,
    Init: o.has('init') ? o.bool('init') : undefined,
    ReadonlyRootfs: o.bool('read-only') || undefined,
    Privileged: o.bool('privileged') || undefined,
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
    Mounts: o.list('mount').length ? o.list('mount').map(parseMount) : undefined,
    NetworkMode: network,
    RestartPolicy: o.str('restart') !== undefined ? parseRestart(o.str('restart')!) : undefined,
    Memory: o.str('memory') !== undefined ? ramInBytes(o.str('memory')!, 'memory') : undefined,
    MemorySwap: memSwap === undefined ? undefined : memSwap === '-1' ? -1 : ramInBytes(memSwap, 'memory-swap'),
    MemoryReservation: o.str('memory-reservation') !== undefined ? ramInBytes(o.str('memory-reservation')!, 'memory-reservation') : undefined,
    NanoCpus: o.str('cpus') !== undefined ? parseCpus(o.str('cpus')!) : undefined,
    CpuShares: cpuShares,
    CpusetCpus: o.str('cpuset-cpus'),
    PidsLimit: pids,
    CapAdd: o.list('cap-add').length ? o.list('cap-add') : undefined,
    CapDrop: o.list('cap-drop').length ? o.list('cap-drop') : undefined,
    SecurityOpt: o.list('security-opt').length ? o.list('security-opt') : undefined,
    Dns: o.list('dns').length ? o.list('dns') : undefined,
    ExtraHosts: o.list('add-host').length ? o.list('add-host') : undefined,
    Sysctls: Object.keys(sysctls).length ? sysctls : undefined,
    GroupAdd: o.list('group-add').length ? o.list('group-add') : undefined,
    Ulimits: o.list('ulimit').length ? o.list('ulimit').map(parseUlimit) : undefined,
    PidMode: o.str('pid'),
    IpcMode: o.str('ipc'),
    ShmSize: o.str('shm-size') !== undefined ? ramInBytes(o.str('shm-size')!, 'shm-size') : undefined,
    // The initial size travels with create (API 1.42+), so the first output is already laid out right.
    ConsoleSize: o.bool('tty') && process.stdout.isTTY && process.stdout.rows ? [process.stdout.rows, process.stdout.columns] : undefined,
    LogConfig: o.str('log-driver') ? { Type: o.str('log-driver'), Config: labelsOf(o.list('log-opt')) } : undefined,
  };

  const body: Record<string, any> = {
    Image: image,
    Cmd: cmd.length ? cmd : undefined,
    Entrypoint: entrypoint === undefined ? undefined : entrypoint === '' ? [''] : [entrypoint],
    Env: env.length ? env : undefined,
    WorkingDir: o.str('workdir'),
    User: o.str('user'),
    Hostname: o.str('hostname'),
    Labels: o.list('label').length ? labelsOf(o.list('label')) : undefined,
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    Volumes: Object.keys(volumes).length ? volumes : undefined,
    StopSignal: o.str('stop-signal'),
    StopTimeout: stopTimeout,
    Healthcheck: healthcheckFromFlags(o),
    Tty: o.bool('tty'),
    OpenStdin: interactive,
    StdinOnce: interactive && attachStdin,
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    HostConfig: hostConfig,
    MacAddress: o.str('mac-address'),
    NetworkingConfig: endpointsConfig(network, o.list('network-alias'), o.str('ip')),
  };
  return { body, name: o.str('name'), platform: o.str('platform'), image: image! };
}
