// Small iptables helpers for what the CNI plugins do not clean up themselves:
// a network's own chains on destroy, and leftovers of an attachment whose ADD
// was cut short by a crash. Rules are read with `iptables -S` and removed by
// replaying them with -D, so only the exact rules found are touched; other
// programs' rules (Docker's, other daemons') are never rewritten.
import { runTool } from '../util/exec-file.js';

export type Table = 'filter' | 'nat' | 'mangle' | 'raw';

/** Splits one `iptables -S` line into argv, honouring "double quoted" comments. */
export function splitRule(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (inQuote) {
      if (ch === '\\' && i + 1 < line.length) {
        cur += line[++i];
      } else if (ch === '"') {
        inQuote = false;
      } else {
        cur += ch;
      }
    } else if (ch === '"') {
      inQuote = true;
      has = true;
    } else if (ch === ' ') {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}

export async function listRules(table: Table): Promise<string[]> {
  const { stdout } = await runTool('iptables', ['-w', '-t', table, '-S']);
  return stdout.split('\n').filter((l) => l.length > 0);
}

export async function chainExists(table: Table, chain: string): Promise<boolean> {
  const r = await runTool('iptables', ['-w', '-t', table, '-n', '-L', chain], { allowFailure: true });
  return r.code === 0;
}

/** Deletes every `-A` rule of the table that matches; a rule already gone is fine. */
export async function deleteRulesWhere(table: Table, match: (argv: string[]) => boolean): Promise<number> {
  let n = 0;
  for (const line of await listRules(table)) {
    if (!line.startsWith('-A ')) continue;
    const argv = splitRule(line);
    if (!match(argv)) continue;
    argv[0] = '-D';
    const r = await runTool('iptables', ['-w', '-t', table, ...argv], { allowFailure: true });
    if (r.code === 0) n++;
  }
  return n;
}

/** Removes a chain: first every jump into it, then its rules, then the chain. */
export async function removeChain(table: Table, chain: string): Promise<void> {
  if (!(await chainExists(table, chain))) return;
  await deleteRulesWhere(table, (argv) => jumpTarget(argv) === chain);
  await runTool('iptables', ['-w', '-t', table, '-F', chain], { allowFailure: true });
  await runTool('iptables', ['-w', '-t', table, '-X', chain], { allowFailure: true });
}

export function jumpTarget(argv: string[]): string | undefined {
  const i = argv.findIndex((a) => a === '-j' || a === '-g');
  return i >= 0 ? argv[i + 1] : undefined;
}

export function optionValue(argv: string[], opt: string): string | undefined {
  const i = argv.indexOf(opt);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Names of user chains in the table. */
export async function listChains(table: Table): Promise<string[]> {
  return (await listRules(table)).filter((l) => l.startsWith('-N ')).map((l) => l.slice(3).trim());
}

/**
 * Host ports that some portmap DNAT chain (any CNI user on the host, including
 * another daemon that lost its socket reservations in a crash) already forwards.
 */
export async function dnatHostPortTaken(proto: string, hostIp: string, port: number): Promise<boolean> {
  for (const line of await listRules('nat')) {
    if (!line.startsWith('-A CNI-DN-')) continue;
    const argv = splitRule(line);
    if (jumpTarget(argv) !== 'DNAT') continue;
    if (optionValue(argv, '-p') !== proto || optionValue(argv, '--dport') !== String(port)) continue;
    const dst = optionValue(argv, '-d');
    const ruleIp = dst ? dst.replace(/\/32$/, '') : '';
    if (hostIp === '' || ruleIp === '' || ruleIp === hostIp) return true;
  }
  return false;
}
