// /etc/hosts, /etc/hostname and /etc/resolv.conf for a container, written in
// its directory and bind-mounted in, as Docker does.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';

export interface EtcFiles {
  hosts: string;
  hostname: string;
  resolvConf: string;
}

/** --dns, --dns-search and --dns-option: each replaces the host's lines of its kind, as in Docker. */
export interface DnsSettings {
  servers?: string[] | null;
  search?: string[] | null;
  options?: string[] | null;
}

function applyDns(text: string, dns: DnsSettings): string {
  let lines = text.split('\n');
  const replace = (keyword: string, values: string[] | null | undefined, render: (v: string[]) => string[]): void => {
    if (!values?.length) return;
    lines = lines.filter((l) => !new RegExp(`^\\s*${keyword}\\s`).test(l));
    lines.push(...render(values));
  };
  replace('nameserver', dns.servers, (v) => v.map((s) => `nameserver ${s}`));
  replace('(search|domain)', dns.search, (v) => [`search ${v.join(' ')}`]);
  replace('options', dns.options, (v) => [`options ${v.join(' ')}`]);
  return lines.join('\n').trim() + '\n';
}

/** Host nameservers minus loopback ones (unreachable from a container's own netns). */
async function containerResolvConf(hostNetwork: boolean): Promise<string> {
  let text = '';
  try {
    text = await readFile('/etc/resolv.conf', 'utf8');
  } catch {
    text = '';
  }
  if (hostNetwork) return text;
  const lines = text.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l));
  if (!lines.some((l) => /^\s*nameserver\s/.test(l))) {
    // Docker's fallback when the host only has a local resolver.
    lines.push('nameserver 8.8.8.8', 'nameserver 8.8.4.4');
  }
  return lines.join('\n').trim() + '\n';
}

/** The container's own /etc/hosts line: its address, then its FQDN (with a domain) and hostname. */
export function hostsLine(ip: string, hostname: string, domainname: string): string {
  const fqdn = domainname ? `${hostname}.${domainname} ` : '';
  return `${ip}\t${fqdn}${hostname}\n`;
}

export async function writeEtcFiles(
  dir: string,
  opts: { hostname: string; domainname: string; ip: string; hostNetwork: boolean; extraHosts?: string[] | null; linkLines?: string[]; dns?: DnsSettings },
): Promise<EtcFiles> {
  const files: EtcFiles = {
    hosts: join(dir, 'hosts'),
    hostname: join(dir, 'hostname'),
    resolvConf: join(dir, 'resolv.conf'),
  };
  let hosts: string;
  if (opts.hostNetwork) {
    hosts = await readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1\tlocalhost\n');
  } else {
    hosts = [
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      'fe00::0\tip6-localnet',
      'ff00::0\tip6-mcastprefix',
      'ff02::1\tip6-allnodes',
      'ff02::2\tip6-allrouters',
      ...extraHostLines(opts.extraHosts),
      // --link: the linked containers' addresses under their aliases (links.ts).
      ...(opts.linkLines ?? []),
      ...(opts.ip ? [hostsLine(opts.ip, opts.hostname, opts.domainname).trimEnd()] : []),
    ].join('\n') + '\n';
  }
  if (opts.hostNetwork && opts.extraHosts?.length) hosts = hosts.replace(/\n?$/, '\n') + extraHostLines(opts.extraHosts).join('\n') + '\n';
  // 0644: bind-mounted into the container, where any user must read them.
  await Promise.all([
    writeFileAtomic(files.hosts, hosts, 0o644),
    writeFileAtomic(files.hostname, `${opts.hostname}\n`, 0o644),
    writeFileAtomic(files.resolvConf, applyDns(await containerResolvConf(opts.hostNetwork), opts.dns ?? {}), 0o644),
  ]);
  return files;
}

/** --add-host arrives as "name:address" (the address may be IPv6, so split at the first colon). */
function extraHostLines(extra: string[] | null | undefined): string[] {
  return (extra ?? []).map((e) => {
    const i = e.indexOf(':');
    return i > 0 ? `${e.slice(i + 1)}\t${e.slice(0, i)}` : e;
  });
}
