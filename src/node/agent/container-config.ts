// One container of a pod as the engine's ContainerSpec: command/args, env (with
// valueFrom and envFrom), volume mounts, resources as cgroup limits and the
// securityContext. It joins the namespaces the pod's sandbox pinned (network,
// IPC, UTS; PID with shareProcessNamespace) or the node's (hostNetwork, hostIPC, hostPID).
import { isAbsolute, join, normalize } from 'node:path';
import { invalid } from '../../errdefs.js';
import { parseQuantity } from '../../kube/api/quantity.js';
import type { ContainerSpec, NamespacesSpec } from '../../engine/container-spec.js';
import type { PodSandbox } from '../../engine/pod-sandboxes.js';
import type { Pod, PodContainer, SecurityContext } from './pod-types.js';
import type { PodSources } from './pod-sources.js';
import { fieldValue, resourceValue, type PodRuntimeFacts } from './downward.js';
import { podLabels, type ContainerRole } from './labels.js';
import type { PodDnsConfig } from '../dns/pod-dns.js';
import type { ServiceEnv } from './service-env.js';

export async function containerEnv(pod: Pod, c: PodContainer, sources: PodSources, facts: PodRuntimeFacts, services: ServiceEnv): Promise<string[]> {
  // Service variables first: envFrom and env override them, and $(VAR) may name them (the kubelet's order).
  const env = await services.forPod(pod.metadata.namespace ?? 'default', pod.spec.enableServiceLinks);
  for (const from of c.envFrom ?? []) {
    const data = from.configMapRef ? await sources.configMap(from.configMapRef.name, from.configMapRef.optional) : from.secretRef ? await sources.secret(from.secretRef.name, from.secretRef.optional) : null;
    for (const [k, v] of Object.entries(data ?? {})) env.set(`${from.prefix ?? ''}${k}`, v.toString());
  }
  for (const e of c.env ?? []) {
    let v: string | undefined = '';
    const f = e.valueFrom;
    if (e.value !== undefined) v = expand(e.value, env);
    else if (f?.configMapKeyRef) v = await sources.key('configmaps', f.configMapKeyRef.name, f.configMapKeyRef.key, f.configMapKeyRef.optional);
    else if (f?.secretKeyRef) v = await sources.key('secrets', f.secretKeyRef.name, f.secretKeyRef.key, f.secretKeyRef.optional);
    else if (f?.fieldRef) v = fieldValue(pod, f.fieldRef.fieldPath, facts);
    else if (f?.resourceFieldRef) v = resourceValue(pod, f.resourceFieldRef.containerName || c.name, f.resourceFieldRef, facts);
    if (v !== undefined) env.set(e.name, v);
  }
  return [...env].map(([k, v]) => `${k}=${v}`);
}

/** $(VAR) references to earlier variables, $$(VAR) escapes, as the kubelet expands them. */
export function expand(s: string, env: Map<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => (m === '$$' ? '$' : env.has(name!) ? env.get(name!)! : m));
}

export interface ContainerConfigInput {
  pod: Pod;
  container: PodContainer;
  role: ContainerRole;
  attempt: number;
  sandbox: PodSandbox;
  env: string[];
  /** The pod's resolver settings (the agent's PodDns). */
  dns: PodDnsConfig;
  /** The pod's own /etc/hosts entries ("names:ip", see pod-hosts.ts). */
  hosts?: string[];
  volumes: Map<string, string>;
  /** The bind mounts, when worked out already (subPath resolution is async: volume-mounts.ts). */
  binds?: string[];
  /** The image's configured user, for runAsNonRoot. */
  imageUser: string;
}

/** Where the kubelet keeps Localhost seccomp profiles (its --root-dir/seccomp). */
const SECCOMP_ROOT = '/var/lib/kubelet/seccomp';

/**
 * securityContext.seccompProfile as engine security options. Unset means
 * Unconfined, the kubelet's default (without --seccomp-default): pods get the
 * runtime's profile only when they ask for RuntimeDefault. It also spares
 * runc compiling the default filter for every container of every pod.
 */
export function seccompSecurityOpt(profile: SecurityContext['seccompProfile'], who: string): string[] {
  switch (profile?.type ?? 'Unconfined') {
    case 'Unconfined':
      return ['seccomp=unconfined'];
    case 'RuntimeDefault':
      return [];
    case 'Localhost': {
      const rel = profile?.localhostProfile ?? '';
      if (!rel || isAbsolute(rel) || normalize(rel).startsWith('..')) throw invalid(`${who}: seccompProfile.localhostProfile must be a relative path inside ${SECCOMP_ROOT}, got "${rel}"`);
      return [`seccomp=${join(SECCOMP_ROOT, normalize(rel))}`];
    }
    default:
      throw invalid(`${who}: seccompProfile.type must be RuntimeDefault, Unconfined or Localhost, got "${String(profile?.type)}"`);
  }
}

export function podContainerSpec(i: ContainerConfigInput): ContainerSpec {
  const { pod, container: c } = i;
  const sc = { ...(pod.spec.securityContext ?? {}), ...(c.securityContext ?? {}) };
  const binds: string[] = i.binds ? [...i.binds] : [];
  for (const m of i.binds ? [] : (c.volumeMounts ?? [])) {
    const src = i.volumes.get(m.name);
    if (!src) throw invalid(`container "${c.name}": volumeMount "${m.name}" names no volume of the pod`);
    binds.push(`${m.subPath ? join(src, m.subPath) : src}:${m.mountPath}:${m.readOnly ? 'ro' : 'rw'}`);
  }
  // runAsUser overrides the image's USER; without it the engine runs the image's USER (as the kubelet
  // does), and runAsGroup alone keeps the image's user with that group ('' = root, as for the kubelet).
  let user = '';
  if (sc.runAsUser !== undefined) user = sc.runAsGroup !== undefined ? `${sc.runAsUser}:${sc.runAsGroup}` : String(sc.runAsUser);
  else if (sc.runAsGroup !== undefined) user = `${i.imageUser.split(':')[0] || '0'}:${sc.runAsGroup}`;
  if (sc.runAsNonRoot) {
    const effective = user || i.imageUser;
    const name = effective.split(':')[0];
    if (!name || name === 'root' || name === '0') throw invalid(`container "${c.name}" has runAsNonRoot and image will run as root`);
  }
  const lim = c.resources?.limits ?? {};
  const req = c.resources?.requests ?? {};
  const memory = parseQuantity(lim.memory);
  const cpuLimit = parseQuantity(lim.cpu);
  const cpuRequest = parseQuantity(req.cpu ?? lim.cpu);
  const dns = i.dns; // each container writes its own resolv.conf: cluster DNS + search path
  const spec: ContainerSpec = {
    image: c.image,
    // The pod's hostname; a hostNetwork pod keeps the node's.
    hostname: i.sandbox.utsPath ? (pod.spec.hostname ?? pod.metadata.name) : '',
    env: i.env,
    labels: podLabels(pod, c.name, i.role, i.attempt),
    // Kubernetes ignores an image's HEALTHCHECK (probes come from the pod spec): no engine health probes for pods.
    healthcheck: { Test: ['NONE'] },
    workingDir: c.workingDir ?? '',
    user,
    tty: Boolean(c.tty),
    openStdin: Boolean(c.stdin),
    stdinOnce: Boolean(c.stdinOnce),
    network: { mode: i.sandbox.netnsPath ? `ns:${i.sandbox.netnsPath}` : 'host', dns: dns.Dns, dnsSearch: dns.DnsSearch, dnsOptions: dns.DnsOptions, ...(i.hosts?.length ? { extraHosts: i.hosts } : {}) },
    namespaces: sandboxNamespaces(i.sandbox),
    mounts: { binds },
    resources: {
      memory: memory ? Math.round(memory) : 0,
      nanoCpus: cpuLimit ? Math.round(cpuLimit * 1e9) : 0,
      // requests.cpu as relative weight, the kubelet's milliCPU * 1024 / 1000 (at least 2).
      cpuShares: cpuRequest ? Math.max(2, Math.round(cpuRequest * 1024)) : 0,
    },
    security: {
      readonlyRootfs: Boolean(sc.readOnlyRootFilesystem),
      privileged: Boolean(sc.privileged),
      capAdd: sc.capabilities?.add ?? null,
      capDrop: sc.capabilities?.drop ?? null,
      securityOpt: seccompSecurityOpt(sc.seccompProfile, `container "${c.name}"`),
      // fsGroup and supplementalGroups join the process's groups, as the kubelet adds them.
      groupAdd: groupsOf(pod),
    },
  };
  // command replaces the image's ENTRYPOINT, args its CMD (Kubernetes' rules); both expand $(VAR) from the container's env.
  const vars = new Map(i.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const args = c.args?.map((a) => expand(a, vars));
  if (c.command) {
    spec.entrypoint = c.command.map((a) => expand(a, vars));
    spec.cmd = args ?? [];
  } else if (args) spec.cmd = args;
  return spec;
}

/** The engine modes that put a container into its pod's namespaces. */
function sandboxNamespaces(s: PodSandbox): NamespacesSpec {
  const pid = s.pid === 'host' ? 'host' : s.pidHolder ? `ns:/proc/${s.pidHolder.pid}/ns/pid` : '';
  return {
    ipc: s.ipcPath ? `ns:${s.ipcPath}` : 'host',
    // A hostNetwork pod has the node's hostname too, as in Kubernetes.
    uts: s.utsPath ? `ns:${s.utsPath}` : 'host',
    pid,
  };
}

function groupsOf(pod: Pod): string[] | null {
  const psc = pod.spec.securityContext;
  const groups = [...(psc?.fsGroup !== undefined ? [psc.fsGroup] : []), ...(psc?.supplementalGroups ?? [])].map(String);
  return groups.length ? [...new Set(groups)] : null;
}
