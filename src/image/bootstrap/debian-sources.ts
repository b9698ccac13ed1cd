// The Debian mirror this host is configured for (deb822 .sources or one-line
// sources.list), as mmdebstrap mirror lines. The mirror is the only network
// some machines have, so bootstrapping uses exactly what apt here uses.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export async function hostMirrorLines(suite: string): Promise<string[]> {
  const lines: string[] = [];
  const files: string[] = [];
  try {
    for (const f of await readdir('/etc/apt/sources.list.d')) if (f.endsWith('.sources') || f.endsWith('.list')) files.push(join('/etc/apt/sources.list.d', f));
  } catch {
    // no directory
  }
  files.push('/etc/apt/sources.list');
  for (const f of files) {
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch {
      continue;
    }
    if (f.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(stanza)?.[1]?.trim() ?? '';
        if (!/\bdeb\b/.test(field('Types')) || /^no$/i.test(field('Enabled'))) continue;
        for (const uri of field('URIs').split(/\s+/).filter(Boolean)) {
          for (const s of field('Suites').split(/\s+/).filter(Boolean)) {
            if (s === suite || s.startsWith(`${suite}-`)) lines.push(`deb ${uri} ${s} ${field('Components') || 'main'}`);
          }
        }
      }
    } else {
      for (const l of text.split('\n')) {
        const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$/.exec(l.trim());
        if (m && (m[2] === suite || m[2]!.startsWith(`${suite}-`))) lines.push(`deb ${m[1]} ${m[2]} ${m[3]}`);
      }
    }
  }
  if (lines.length === 0) lines.push(`deb http://deb.debian.org/debian ${suite} main`);
  return [...new Set(lines)];
}
