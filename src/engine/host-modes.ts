// The HostConfig settings that pick a namespace or a kernel knob rather than
// a resource amount: UTS, user and cgroup namespace modes, isolation, memory
// swappiness, the OOM score adjustment, CPU real-time budgets and device cgroup rules. Each is checked
// at create (Docker's words), so a bad value leaves no container behind, and
// stored as inspect shows it on dockerd.
import { existsSync } from 'node:fs';
import { invalid } from '../errdefs.js';
import { isCgroupV2 } from '../runtime/cgroups/cgroup-fs.js';
import { deviceRuleToOci } from '../runtime/spec/devices.js';
import type { HostConfig } from './container-record.js';
import type { ContainerSpec } from './container-spec.js';

type HostModes = Pick<HostConfig, 'UTSMode' | 'CgroupnsMode' | 'Isolation' | 'VolumeDriver' | 'MemorySwappiness' | 'OomScoreAdj' | 'UsernsMode' | 'CpuRealtimePeriod' | 'CpuRealtimeRuntime' | 'DeviceCgroupRules'>;

/** Without CONFIG_RT_GROUP_SCHED the cpu controller has no rt files (and v2 has no real-time budget at all). */
const hasRealtimeCgroup = (): boolean => !isCgroupV2() && existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us');

export function hostModesOf(s: ContainerSpec): HostModes {
  const uts = s.namespaces?.uts ?? '';
  if (uts !== '' && uts !== 'host' && !uts.startsWith('ns:')) throw invalid(`invalid UTS mode: ${uts}`);
  // dockerd fills the daemon's default in at create: private on cgroup v2, host on v1.
  const cgroupns = s.namespaces?.cgroupns || (isCgroupV2() ? 'private' : 'host');
  if (cgroupns !== 'private' && cgroupns !== 'host') throw invalid(`invalid cgroup namespace mode: ${cgroupns}`);
  // Without userns-remap (tug has none) dockerd takes '' and 'host' and nothing else.
  const userns = s.namespaces?.userns ?? '';
  if (userns !== '' && userns !== 'host') throw invalid(`invalid user namespace mode: ${userns} (only "host" is supported: no user namespace remapping)`);
  const isolation = s.isolation ?? '';
  if (isolation !== '' && isolation !== 'default') throw invalid(`Invalid isolation: "${isolation}" - linux only supports 'default'`);

  const res = s.resources ?? {};
  const swappiness = res.memorySwappiness ?? null;
  if (swappiness !== null && swappiness !== -1 && (!Number.isInteger(swappiness) || swappiness < 0 || swappiness > 100)) {
    throw invalid(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  }
  const oomScoreAdj = res.oomScoreAdj ?? 0;
  if (!Number.isInteger(oomScoreAdj) || oomScoreAdj < -1000 || oomScoreAdj > 1000) {
    throw invalid(`Invalid value ${oomScoreAdj}, range for oom score adj is [-1000, 1000]`);
  }
  const rtPeriod = res.cpuRealtimePeriod ?? 0;
  const rtRuntime = res.cpuRealtimeRuntime ?? 0;
  if ((rtPeriod > 0 || rtRuntime > 0) && !hasRealtimeCgroup()) {
    throw invalid(`Your kernel does not support cgroup cpu real-time ${rtPeriod > 0 ? 'period' : 'runtime'}`);
  }
  if (rtPeriod !== 0 && rtRuntime !== 0 && rtRuntime > rtPeriod) throw invalid('cpu real-time runtime cannot be higher than cpu real-time period');

  const rules = s.security?.deviceCgroupRules ?? null;
  for (const r of rules ?? []) deviceRuleToOci(r);

  return {
    UTSMode: uts,
    CgroupnsMode: cgroupns,
    Isolation: isolation,
    VolumeDriver: s.volumeDriver ?? '',
    MemorySwappiness: swappiness === -1 ? null : swappiness,
    OomScoreAdj: oomScoreAdj,
    UsernsMode: userns,
    CpuRealtimePeriod: rtPeriod,
    CpuRealtimeRuntime: rtRuntime,
    DeviceCgroupRules: rules,
  };
}
