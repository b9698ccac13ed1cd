// Who holds an address and port, for the error when the embedded DNS cannot
// bind a gateway's port 53: `ss` names the process ("dnsmasq (pid 812)").
import { runTool } from '../../util/exec-file.js';

export async function portOwner(proto: 'udp' | 'tcp', host: string, port: number): Promise<string | undefined> {
  const r = await runTool('ss', ['-Hlnp', proto === 'udp' ? '-u' : '-t', `sport = :${port}`], { allowFailure: true, timeoutMs: 5000 }).catch(() => undefined);
  if (!r || r.code !== 0) return undefined;
  for (const line of r.stdout.split('\n')) {
    const cols = line.trim().split(/\s+/);
    const local = cols[3] ?? '';
    const addr = local.slice(0, local.lastIndexOf(':')).replace(/%.*$/, '');
    // The exact address, or a wildcard that covers it.
    if (addr !== host && addr !== '0.0.0.0' && addr !== '*' && addr !== '[::]') continue;
    const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(line);
    return m ? `${m[1]} (pid ${m[2]})` : `another socket (${local})`;
  }
  return undefined;
}
