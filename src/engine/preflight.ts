// Checks the host before the daemon starts, so a missing tool is one clear
// line ("runc not found: apt-get install runc") instead of a failure later.
import { access, constants } from 'node:fs/promises';
import { unavailable } from '../errdefs.js';

const tools: Array<{ path: string; pkg: string }> = [
  { path: '/usr/bin/runc', pkg: 'runc' },
  { path: '/usr/bin/conmon', pkg: 'conmon' },
  { path: '/usr/lib/cni/bridge', pkg: 'containernetworking-plugins' },
  { path: '/usr/sbin/iptables', pkg: 'iptables' },
];

export async function preflight(): Promise<void> {
  if (process.getuid?.() !== 0) throw unavailable('tug daemon must run as root (it creates namespaces, cgroups and mounts)');
  const missing: string[] = [];
  for (const t of tools) {
    try {
      await access(t.path, constants.X_OK);
    } catch {
      missing.push(t.pkg);
    }
  }
  if (missing.length) throw unavailable(`missing host tools: ${missing.join(', ')} (install with: apt-get install ${missing.join(' ')})`);
}
