// Applies a RuleSet to the host: the jumps from the built-in chains (added once,
// checked with -C so a restart does not duplicate them), then ONE
// `iptables-restore --noflush` per sync that rewrites only our chains, so a
// change lands atomically per table. remove() takes every trace away again.
import { runTool } from '../../util/exec-file.js';
import { listChains, deleteRulesWhere, jumpTarget, type Table } from '../../network/iptables.js';
import { hookRules, restoreText, type ChainNames, type RuleSet } from './service-rules.js';

const WAIT = ['-w', '10'];

function ours(c: ChainNames, chain: string): boolean {
  return chain.endsWith(`-${c.tag}`) || chain.startsWith(c.svcPrefix) || chain.startsWith(c.sepPrefix) || chain.startsWith(c.xlbPrefix);
}

export class IptablesProgrammer {
  /** Chains written by the last sync, per table (seeded from the host at start, so a crash leaves nothing behind). */
  private written: { nat: Set<string>; filter: Set<string> } = { nat: new Set(), filter: new Set() };
  private hooked = false;
  /** The last restore's input: the same rules again need no restore (a process and ~15 ms of CPU). */
  private lastText?: string;

  constructor(
    private readonly c: ChainNames,
    private readonly bridge: string,
  ) {}

  /**
   * Writes the rules (one iptables-restore), hooking our chains in the first
   * time. Rules exactly as the last restore wrote them run nothing, unless
   * `force` (repairing rules someone else removed); `before` is called just
   * before a restore runs. Returns whether one ran.
   */
  async apply(rules: RuleSet, o: { force?: boolean; before?: () => void } = {}): Promise<boolean> {
    if (!this.hooked) {
      for (const t of ['nat', 'filter'] as const) for (const ch of await listChains(t)) if (ours(this.c, ch)) this.written[t].add(ch);
    }
    const stale = {
      nat: [...this.written.nat].filter((n) => !rules.nat.has(n)),
      filter: [...this.written.filter].filter((n) => !rules.filter.has(n)),
    };
    const text = restoreText(rules, stale);
    if (!o.force && this.hooked && text === this.lastText) return false;
    o.before?.();
    this.lastText = undefined;
    await runTool('iptables-restore', ['--noflush', ...WAIT], { input: text });
    this.written = { nat: new Set(rules.nat.keys()), filter: new Set(rules.filter.keys()) };
    this.lastText = text;
    if (!this.hooked) {
      // The chains exist now; hook them in (REJECT/portals first, as kube-proxy inserts at the top).
      // Inserted at the top in reverse, so they end up in hookRules' order.
      for (const [table, builtin, args] of hookRules(this.c, this.bridge).reverse()) {
        const present = await runTool('iptables', [...WAIT, '-t', table, '-C', builtin, ...args], { allowFailure: true });
        if (present.code !== 0) await runTool('iptables', [...WAIT, '-t', table, '-I', builtin, '1', ...args]);
      }
      this.hooked = true;
    }
    return true;
  }

  /** Unhooks and deletes every chain of this tag (one restore flushes and deletes them all). */
  async remove(): Promise<void> {
    const stale = { nat: [] as string[], filter: [] as string[] };
    for (const table of ['nat', 'filter'] as Table[]) {
      stale[table as 'nat' | 'filter'] = (await listChains(table)).filter((ch) => ours(this.c, ch));
      const set = new Set(stale[table as 'nat' | 'filter']);
      await deleteRulesWhere(table, (argv) => set.has(jumpTarget(argv) ?? '') && !set.has(argv[1] ?? ''));
    }
    if (stale.nat.length || stale.filter.length) {
      await runTool('iptables-restore', ['--noflush', ...WAIT], { input: restoreText({ nat: new Map(), filter: new Map() }, stale) });
    }
    this.written = { nat: new Set(), filter: new Set() };
    this.hooked = false;
    this.lastText = undefined;
  }
}
