// Port syntax to the long form: "8000:80", "127.0.0.1:8000:80/udp",
// "[::1]:8000:80", "8000-8001:80-81" (one entry per container port, paired
// with the host range), "9000-9010:80" (one entry, any host port of the
// range), a bare container port, or the long mapping. Throws a plain message.

import type { PortConfig } from './project-types.js';

function range(s: string, what: string, whole: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new Error(`invalid ${what} port "${s}" in "${whole}"`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a < 1 || b > 65535 || b < a) throw new Error(`invalid ${what} port range "${s}" in "${whole}": ports are 1-65535, low to high`);
  return [a, b];
}

function protocolOf(p: string, whole: string): 'tcp' | 'udp' {
  const lower = p.toLowerCase();
  if (lower === 'tcp' || lower === 'udp') return lower;
  throw new Error(`invalid protocol "${p}" in "${whole}": tug publishes tcp and udp`);
}

export function parsePortString(whole: string): PortConfig[] {
  let s = whole.trim();
  let protocol: 'tcp' | 'udp' = 'tcp';
  const slash = s.lastIndexOf('/');
  if (slash >= 0) {
    protocol = protocolOf(s.slice(slash + 1), whole);
    s = s.slice(0, slash);
  }
  let hostIp = '';
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0 || s[close + 1] !== ':') throw new Error(`invalid port "${whole}": an IPv6 host address is written [addr]:host:container`);
    hostIp = s.slice(1, close);
    s = s.slice(close + 2);
  }
  const parts = s.split(':');
  let published = '';
  let container: string;
  if (parts.length === 1) container = parts[0]!;
  else if (parts.length === 2) [published, container] = parts as [string, string];
  else {
    if (hostIp) throw new Error(`invalid port "${whole}"`);
    container = parts.pop()!;
    published = parts.pop()!;
    hostIp = parts.join(':');
  }
  const [c0, c1] = range(container, 'container', whole);
  if (published === '') {
    const out: PortConfig[] = [];
    for (let p = c0; p <= c1; p++) out.push({ target: p, published: '', host_ip: hostIp, protocol, mode: 'ingress' });
    return out;
  }
  const [h0, h1] = range(published, 'host', whole);
  if (c0 === c1) return [{ target: c0, published, host_ip: hostIp, protocol, mode: 'ingress' }];
  if (h1 - h0 !== c1 - c0) throw new Error(`invalid port "${whole}": the host range and the container range differ in size`);
  const out: PortConfig[] = [];
  for (let i = 0; i <= c1 - c0; i++) out.push({ target: c0 + i, published: String(h0 + i), host_ip: hostIp, protocol, mode: 'ingress' });
  return out;
}

export function parsePortLong(v: Record<string, unknown>): PortConfig {
  const target = Number(v.target);
  if (!Number.isInteger(target) || target < 1 || target > 65535) throw new Error(`target must be a port number 1-65535`);
  const mode = v.mode === undefined ? 'ingress' : String(v.mode);
  if (mode !== 'ingress' && mode !== 'host') throw new Error(`mode must be "ingress" or "host", not "${mode}"`);
  const published = v.published === undefined || v.published === null ? '' : String(v.published);
  if (published !== '') range(published, 'published', published);
  const out: PortConfig = {
    target,
    published,
    host_ip: v.host_ip === undefined ? '' : String(v.host_ip),
    protocol: v.protocol === undefined ? 'tcp' : protocolOf(String(v.protocol), String(v.protocol)),
    mode,
  };
  return out;
}

/** The merge key the spec gives ports: {ip, target, published, protocol}. */
export function portKey(p: PortConfig): string {
  return `${p.host_ip}|${p.target}|${p.published}|${p.protocol}`;
}
