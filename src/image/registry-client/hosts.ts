// Where a registry host name points and how to talk to it: docker.io means
// registry-1.docker.io; loopback hosts and hosts given with the daemon's
// --insecure-registry flag may be spoken to over plain HTTP (or TLS without
// verification), as dockerd does; extra CAs come from certs.d like Docker's.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { invalid } from '../../errdefs.js';
import { DEFAULT_DOMAIN } from '../../oci/reference.js';

const DOCKER_HUB_API = 'registry-1.docker.io';
/** Docker stores Hub credentials under this key in config.json. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

const insecureHosts = new Set<string>();
const insecureNets: Array<{ base: number; mask: number }> = [];

/**
 * Sets the daemon's --insecure-registry list: HOST[:PORT] entries or IPv4 CIDRs.
 * Module-wide because a daemon process has exactly one such list.
 */
export function setInsecureRegistries(entries: string[]): void {
  insecureHosts.clear();
  insecureNets.length = 0;
  for (const e of entries) {
    const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(e);
    if (cidr) {
      const bits = Number(cidr[2]);
      if (isIP(cidr[1]!) !== 4 || bits > 32) throw invalid(`--insecure-registry ${e}: bad CIDR`);
      const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
      insecureNets.push({ base: (ipv4ToInt(cidr[1]!) & mask) >>> 0, mask });
      continue;
    }
    const host = e.replace(/^https?:\/\//, '').replace(/\/+$/, '');
    if (!host || host.includes('/')) throw invalid(`--insecure-registry ${JSON.stringify(e)}: want HOST[:PORT] or a CIDR`);
    insecureHosts.add(host.toLowerCase());
  }
}

export function insecureRegistries(): string[] {
  return [...insecureHosts];
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, p) => ((n << 8) | Number(p)) >>> 0, 0);
}

/** 'host:port' → 'host' (IPv6 brackets removed). */
export function hostnameOf(hostPort: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(hostPort);
  if (v6) return v6[1]!;
  const colon = hostPort.lastIndexOf(':');
  return colon > 0 ? hostPort.slice(0, colon) : hostPort;
}

/** Loopback registries and those named with --insecure-registry (host:port, host, or a CIDR holding the IP). */
export function isInsecureRegistry(hostPort: string): boolean {
  const lower = hostPort.toLowerCase();
  const name = hostnameOf(lower);
  if (name === 'localhost' || name === '::1' || /^127\./.test(name)) return true;
  if (insecureHosts.has(lower) || insecureHosts.has(name)) return true;
  if (isIP(name) === 4) {
    const n = ipv4ToInt(name);
    return insecureNets.some((net) => ((n & net.mask) >>> 0) === net.base);
  }
  return false;
}

/** The host:port to connect to for a reference's domain. */
export function apiHostOf(domain: string): string {
  return domain === DEFAULT_DOMAIN ? DOCKER_HUB_API : domain;
}

/** The key under which config.json keeps credentials for a domain (Docker's convention for Hub). */
export function authKeyOf(domain: string): string {
  return domain === DEFAULT_DOMAIN ? DOCKER_HUB_AUTH_KEY : domain;
}

/** 'https://index.docker.io/v1/', 'http://127.0.0.1:5000/', 'reg:5000' → the domain it names. */
export function domainOfServerAddress(addr: string): string {
  const s = addr.trim();
  if (s === '' || /^(https?:\/\/)?(index|registry-1)\.docker\.io(\/|$)/.test(s) || s === 'docker.io') return DEFAULT_DOMAIN;
  return s.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
}

const certsDirs = (): string[] => [process.env.TUG_REGISTRY_CERTS_D ?? '/etc/tug/certs.d', '/etc/docker/certs.d'];

/** Extra trusted CAs for a host: certs.d/<host:port>/*.crt, as Docker reads them. */
export async function extraCAsFor(hostPort: string): Promise<Buffer[] | undefined> {
  const found: Buffer[] = [];
  for (const base of certsDirs()) {
    const dir = join(base, hostPort.replace(/[/\\]/g, '_'));
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const n of names.filter((x) => x.endsWith('.crt')).sort()) found.push(await readFile(join(dir, n)));
  }
  return found.length ? found : undefined;
}
