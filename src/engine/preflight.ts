// Checks the host before the daemon starts, so a missing tool is one clear
// line ("runc not found: apt-get install runc") instead of a failure later.
import { access, constants } from 'node:fs/promises';
import { unavailable } from '../errdefs.js';

/** The OCI runtime binary; TUG_RUNC overrides it (tests point it at a missing path). */
export function runcPath(): string {
  return process.env.TUG_RUNC || '/usr/bin/runc';
}

const tools = (): Array<{ path: string; pkg: string }> => [
  { path: runcPath(), pkg: 'runc' },
  { path: '/usr/bin/conmon', pkg: 'conmon' },
  { path: '/usr/lib/cni/bridge', pkg: 'containernetworking-plugins' },
  { path: '/usr/sbin/iptables', pkg: 'iptables' },
];

export async function preflight(): Promise<void> {
  if (process.getuid?.() !== 0) throw unavailable('tug daemon must run as root (it creates namespaces, cgroups and mounts)');
  const missing: Array<{ name: string; pkg: string }> = [];
  for (const t of tools()) {
    try {
      await access(t.path, constants.X_OK);
    } catch {
      missing.push({ name: `${t.pkg} (${t.path})`, pkg: t.pkg });
    }
  }
  if (missing.length) throw unavailable(`missing host tools: ${missing.map((m) => m.name).join(', ')} (install with: apt-get install ${missing.map((m) => m.pkg).join(' ')})`);
}
