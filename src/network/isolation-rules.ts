// Isolation between one daemon's bridge networks, as Docker's
// DOCKER-ISOLATION chains: one filter chain per daemon (named after its root,
// so side-by-side daemons never share it) holding `-o <bridge> -j DROP` for
// each of its bridges. Each network's own forward chain sends traffic leaving
// its bridge here first (network-rules.ts), so a packet from one network to
// another is dropped whichever network's chain FORWARD reaches first, while
// traffic to the host's uplink falls through to the network's accepts.
import { createHash } from 'node:crypto';
import { runTool } from '../util/exec-file.js';
import { chainExists, deleteRulesWhere, jumpTarget, optionValue, removeChain } from './iptables.js';

export function isolationChainName(root: string): string {
  return `TUG-ISO-${createHash('sha256').update(root).digest('hex').slice(0, 10)}`;
}

/** Idempotent: the chain, and a DROP for traffic into this bridge. */
export async function addIsolationMember(chain: string, bridgeName: string): Promise<void> {
  if (!(await chainExists('filter', chain))) {
    await runTool('iptables', ['-w', '-t', 'filter', '-N', chain], { allowFailure: true });
  }
  const rule = ['-o', bridgeName, '-j', 'DROP'];
  const has = await runTool('iptables', ['-w', '-t', 'filter', '-C', chain, ...rule], { allowFailure: true });
  if (has.code !== 0) await runTool('iptables', ['-w', '-t', 'filter', '-A', chain, ...rule]);
}

export async function removeIsolationMember(chain: string, bridgeName: string): Promise<void> {
  if (!(await chainExists('filter', chain))) return;
  await deleteRulesWhere('filter', (argv) => argv[1] === chain && optionValue(argv, '-o') === bridgeName && jumpTarget(argv) === 'DROP');
  // The last member gone, the chain goes too (else every daemon that ever ran leaves an empty chain behind).
  // A bare -X is atomic: the kernel refuses it while the chain holds a rule or is jumped to, so a member
  // another network adds meanwhile is never flushed away.
  await runTool('iptables', ['-w', '-t', 'filter', '-X', chain], { allowFailure: true });
}

/** The chain and every jump into it (a stopping ephemeral daemon, or the last network gone). */
export function removeIsolationChain(chain: string): Promise<void> {
  return removeChain('filter', chain);
}
