// The iptables rules one bridge network needs, installed once per network
// instead of once per container: outbound NAT for the subnet (what the bridge
// plugin's ipMasq does per container address) and FORWARD accepts for it (what
// the firewall plugin does per address, so containers work where Docker set
// the FORWARD policy to DROP). Per-container rules cost a dozen iptables
// execs per attach and per detach, each under the xtables lock and each
// slower as the tables grow; these cost none after the first attach.
//
// Everything lives in two chains named after the bridge plus one jump into
// each, so removal is exact: removeChain drops the jumps, the rules and the chains.
//
// User-defined networks add, in their own forward chain (so the order of the
// jumps in FORWARD never matters): a jump into the daemon's isolation chain
// for traffic leaving the bridge (isolation-rules.ts drops it there when it
// heads for another of the daemon's bridges), the --internal drops (nothing in
// or out of the bridge, and no NAT chain at all), and the enable_icc=false drop
// of bridged traffic between the network's containers (needs br_netfilter).
import { invalid } from '../errdefs.js';
import { runTool } from '../util/exec-file.js';
import { removeChain } from './iptables.js';

export interface NetworkRuleNames {
  /** nat: RETURN for the subnet and multicast, MASQUERADE for the rest. */
  masq: string;
  /** filter: ACCEPT from the subnet, and replies to it. */
  forward: string;
}

export function networkRuleNames(bridgeName: string): NetworkRuleNames {
  // iptables chain names are at most 28 characters; a bridge name at most 15.
  return { masq: `TUG-MASQ-${bridgeName}`, forward: `TUG-FWD-${bridgeName}` };
}

export interface NetworkRuleOptions {
  /** No route out: no NAT, nothing forwarded into or out of the bridge. */
  internal?: boolean;
  /** false: drop traffic between containers on the bridge (br_netfilter makes it cross FORWARD). */
  icc?: boolean;
  /** The daemon's isolation chain (isolation-rules.ts), entered by traffic leaving the bridge. */
  isolationChain?: string;
  /** Destinations reached without NAT besides the subnet: the cluster's pod range, so a pod on another node sees the real source. */
  noMasqueradeTo?: string[];
}

/** The jumps into the network's chains, as argv after the -A/-C/-I/-D verb. */
function jumps(names: NetworkRuleNames, subnet: string, internal: boolean): Array<{ table: 'nat' | 'filter'; chain: string; rule: string[] }> {
  return [
    ...(internal ? [] : [{ table: 'nat' as const, chain: 'POSTROUTING', rule: ['-s', subnet, '-j', names.masq] }]),
    { table: 'filter', chain: 'FORWARD', rule: ['-j', names.forward] },
  ];
}

/**
 * Idempotent (a restarted daemon calls it again): the chains are declared and
 * filled in one iptables-restore (declaring flushes them, so their content is
 * always exactly this), and each jump is added only when `iptables -C` finds none.
 */
export async function installNetworkRules(bridgeName: string, subnet: string, opts: NetworkRuleOptions = {}): Promise<void> {
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(subnet)) throw invalid(`subnet "${subnet}" is not an IPv4 CIDR`);
  const names = networkRuleNames(bridgeName);
  const b = bridgeName;
  const internal = Boolean(opts.internal);
  const restore = [
    ...(internal
      ? []
      : [
          '*nat',
          `:${names.masq} - [0:0]`,
          `-A ${names.masq} -d ${subnet} -j RETURN`,
          ...(opts.noMasqueradeTo ?? []).map((d) => `-A ${names.masq} -d ${d} -j RETURN`),
          `-A ${names.masq} -d 224.0.0.0/4 -j RETURN`,
          `-A ${names.masq} -j MASQUERADE`,
          'COMMIT',
        ]),
    '*filter',
    `:${names.forward} - [0:0]`,
    ...(opts.isolationChain ? [`-A ${names.forward} -i ${b} ! -o ${b} -j ${opts.isolationChain}`] : []),
    ...(internal ? [`-A ${names.forward} -i ${b} ! -o ${b} -j DROP`, `-A ${names.forward} ! -i ${b} -o ${b} -j DROP`] : []),
    ...(opts.icc === false ? [`-A ${names.forward} -i ${b} -o ${b} -j DROP`] : []),
    `-A ${names.forward} -d ${subnet} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    `-A ${names.forward} -s ${subnet} -j ACCEPT`,
    'COMMIT',
    '',
  ].join('\n');
  await runTool('iptables-restore', ['-w', '--noflush'], { input: restore });
  for (const j of jumps(names, subnet, internal)) {
    const has = await runTool('iptables', ['-w', '-t', j.table, '-C', j.chain, ...j.rule], { allowFailure: true });
    if (has.code !== 0) await runTool('iptables', ['-w', '-t', j.table, '-I', j.chain, '1', ...j.rule]);
  }
}

/** Removes the network's chains and every jump into them; nothing else. */
export async function removeNetworkRules(bridgeName: string): Promise<void> {
  const names = networkRuleNames(bridgeName);
  await removeChain('nat', names.masq);
  await removeChain('filter', names.forward);
}
