// Seccomp profiles in Docker's JSON format (the built-in default of
// seccomp-default.ts or a user's --security-opt seccomp=FILE), converted to the
// OCI runtime spec's linux.seccomp for one container (its caps and its arch),
// the way moby's profiles/seccomp.setupSeccomp does.
import { readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { invalid } from '../../errdefs.js';
import type { OciSeccomp, OciSeccompArg, OciSeccompSyscall } from './oci-runtime-types.js';

export interface ProfileFilter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

export interface ProfileSyscall {
  name?: string;
  names?: string[];
  action: string;
  args?: OciSeccompArg[] | null;
  errnoRet?: number;
  comment?: string;
  includes?: ProfileFilter;
  excludes?: ProfileFilter;
}

export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: Array<{ architecture: string; subArchitectures?: string[] | null }> | null;
  flags?: string[];
  syscalls?: ProfileSyscall[] | null;
}

/** Node's process.arch -> the Go GOARCH names the profiles use in includes.arches. */
export function goArch(nodeArch: string = process.arch): string {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', mips: 'mips', mipsel: 'mipsle' };
  return map[nodeArch] ?? nodeArch;
}

/** GOARCH -> the libseccomp native architecture it runs as. */
function nativeScmpArch(arch: string): string {
  const map: Record<string, string> = { amd64: 'SCMP_ARCH_X86_64', '386': 'SCMP_ARCH_X86', arm64: 'SCMP_ARCH_AARCH64', arm: 'SCMP_ARCH_ARM', ppc64le: 'SCMP_ARCH_PPC64LE', s390x: 'SCMP_ARCH_S390X', riscv64: 'SCMP_ARCH_RISCV64' };
  return map[arch] ?? '';
}

/** Profile arch names in includes.arches use GOARCH-ish names, with a few aliases. */
function archMatches(list: string[], arch: string): boolean {
  const aliases: Record<string, string[]> = { '386': ['x86', '386'], amd64: ['amd64', 'x86_64'], arm64: ['arm64', 'aarch64'] };
  return list.some((a) => (aliases[arch] ?? [arch]).includes(a));
}

/** "5.10.0-21-amd64" >= "4.8"? Only kernel and major revision count, as in moby. */
function kernelAtLeast(min: string, kernel: string): boolean {
  const parse = (v: string): number[] => v.split(/[.-]/).slice(0, 2).map((x) => Number.parseInt(x, 10) || 0);
  const [a, b] = parse(kernel);
  const [c, d] = parse(min);
  return a > c || (a === c && b >= d);
}

export async function loadSeccompProfileFile(path: string): Promise<SeccompProfile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw invalid(`opening seccomp profile (${path}) failed: ${(err as Error).message}`);
  }
  return parseSeccompProfile(text, path);
}

export function parseSeccompProfile(text: string, where = 'seccomp profile'): SeccompProfile {
  let p: unknown;
  try {
    p = JSON.parse(text);
  } catch (err) {
    throw invalid(`decoding seccomp profile (${where}) failed: ${(err as Error).message}`);
  }
  if (typeof p !== 'object' || p === null || typeof (p as SeccompProfile).defaultAction !== 'string') {
    throw invalid(`decoding seccomp profile (${where}) failed: defaultAction is required`);
  }
  return p as SeccompProfile;
}

/**
 * The OCI form of a profile for a container holding `caps` (its bounding set)
 * on `arch` (GOARCH name). Rules whose includes are not met, or whose excludes
 * are, are left out: that is how the default profile allows e.g. chroot only
 * to containers that have CAP_SYS_CHROOT. `kernel` is the host's release
 * (uname -r), for minKernel.
 */
export function seccompToOci(profile: SeccompProfile, caps: readonly string[], arch: string = goArch(), kernel: string = release()): OciSeccomp {
  if (profile.architectures?.length && profile.archMap?.length) {
    throw invalid("seccomp profile: use either 'architectures' or 'archMap'");
  }
  const out: OciSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  if (profile.architectures?.length) {
    out.architectures = [...profile.architectures];
  } else if (profile.archMap?.length) {
    const native = nativeScmpArch(arch);
    const entry = profile.archMap.find((a) => a.architecture === native);
    if (entry) out.architectures = [entry.architecture, ...(entry.subArchitectures ?? [])];
  }
  if (profile.flags?.length) out.flags = [...profile.flags];

  const syscalls: OciSeccompSyscall[] = [];
  for (const rule of profile.syscalls ?? []) {
    const inc = rule.includes ?? {};
    const exc = rule.excludes ?? {};
    if (inc.arches?.length && !archMatches(inc.arches, arch)) continue;
    if (inc.caps?.length && !inc.caps.every((c) => caps.includes(c))) continue;
    if (inc.minKernel && !kernelAtLeast(inc.minKernel, kernel)) continue;
    if (exc.arches?.length && archMatches(exc.arches, arch)) continue;
    if (exc.caps?.length && exc.caps.some((c) => caps.includes(c))) continue;
    if (exc.minKernel && kernelAtLeast(exc.minKernel, kernel)) continue;
    if (rule.name && rule.names?.length) throw invalid("seccomp profile: a syscall rule has both 'name' and 'names', use one");
    const names = rule.names?.length ? rule.names : rule.name ? [rule.name] : [];
    if (names.length === 0) throw invalid('seccomp profile: a syscall rule has neither name nor names');
    const sc: OciSeccompSyscall = { names: [...names], action: rule.action };
    if (rule.errnoRet !== undefined) sc.errnoRet = rule.errnoRet;
    if (rule.args?.length) sc.args = rule.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op }));
    syscalls.push(sc);
  }
  out.syscalls = syscalls;
  return out;
}
