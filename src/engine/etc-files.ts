// /etc/hosts, /etc/hostname and /etc/resolv.conf for a container, written in
// its directory and bind-mounted in, as Docker does. resolv.conf is dockerd's
// byte for byte (network/dns): on the default bridge the host's file without
// loopback nameservers, or rebuilt from --dns/--dns-search/--dns-option; on a
// user-defined network `nameserver 127.0.0.11` for the embedded DNS server;
// with the host's network the host's own file.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HOST_RESOLV_CONF, hostResolvConfPath, readResolvConf } from '../network/dns/resolv-conf-file.js';
import { sandboxResolvConf, type DnsSettings } from '../network/dns/sandbox-resolv-conf.js';
import { userNetworkResolvConf } from '../network/embedded-dns/resolv-conf.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { extraHostLines } from './extra-hosts.js';

export type { DnsSettings } from '../network/dns/sandbox-resolv-conf.js';

export interface EtcFiles {
  hosts: string;
  hostname: string;
  resolvConf: string;
}

export interface EtcFilesOptions {
  hostname: string;
  domainname: string;
  ip: string;
  hostNetwork: boolean;
  extraHosts?: string[] | null;
  /** What "host-gateway" in --add-host stands for: the default bridge's gateway, as dockerd's HostGatewayIP. */
  hostGatewayIp?: string;
  linkLines?: string[];
  dns?: DnsSettings;
  /** On a user-defined network: resolv.conf points at the embedded DNS server (127.0.0.11). */
  embeddedDns?: boolean;
}

/** The container's resolv.conf text, from the host file dockerd would read for its kind of network. */
export async function containerResolvConf(opts: { hostNetwork: boolean; embeddedDns?: boolean; dns?: DnsSettings }): Promise<string> {
  const dns = opts.dns ?? {};
  if (opts.embeddedDns) {
    return userNetworkResolvConf({ dnsServers: dns.servers, dnsSearch: dns.search, dnsOptions: dns.options, hostResolvConf: await readResolvConf(HOST_RESOLV_CONF) });
  }
  // The default bridge reads systemd-resolved's upstream list behind a 127.0.0.53 stub.
  const origin = opts.hostNetwork ? HOST_RESOLV_CONF : await hostResolvConfPath();
  return sandboxResolvConf(await readResolvConf(origin), dns, opts.hostNetwork).text;
}

/**
 * Rewrites a running container's resolv.conf for a new situation (its first
 * user-defined network connected: Docker then points it at 127.0.0.11). In
 * place, not by rename: runc bind-mounted this very inode into the container.
 */
export async function rewriteResolvConf(path: string, opts: { hostNetwork: boolean; embeddedDns?: boolean; dns?: DnsSettings }): Promise<void> {
  await writeFile(path, await containerResolvConf(opts), { mode: 0o644 });
}

/** The container's own /etc/hosts line: its address, then its FQDN (with a domain) and hostname. */
export function hostsLine(ip: string, hostname: string, domainname: string): string {
  const fqdn = domainname ? `${hostname}.${domainname} ` : '';
  return `${ip}\t${fqdn}${hostname}\n`;
}

export async function writeEtcFiles(dir: string, opts: EtcFilesOptions): Promise<EtcFiles> {
  const files: EtcFiles = {
    hosts: join(dir, 'hosts'),
    hostname: join(dir, 'hostname'),
    resolvConf: join(dir, 'resolv.conf'),
  };
  const extra = extraHostLines(opts.extraHosts, opts.hostGatewayIp);
  let hosts: string;
  if (opts.hostNetwork) {
    hosts = await readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1\tlocalhost\n');
    if (extra.length) hosts = hosts.replace(/\n?$/, '\n') + extra.join('\n') + '\n';
  } else {
    hosts = [
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      'fe00::0\tip6-localnet',
      'ff00::0\tip6-mcastprefix',
      'ff02::1\tip6-allnodes',
      'ff02::2\tip6-allrouters',
      ...extra,
      // --link: the linked containers' addresses under their aliases (links.ts).
      ...(opts.linkLines ?? []),
      ...(opts.ip ? [hostsLine(opts.ip, opts.hostname, opts.domainname).trimEnd()] : []),
    ].join('\n') + '\n';
  }
  // 0644: bind-mounted into the container, where any user must read them. Written
  // again at every start: not fsynced (atomic-file.ts, durable).
  const once = { durable: false };
  await Promise.all([
    writeFileAtomic(files.hosts, hosts, 0o644, once),
    writeFileAtomic(files.hostname, `${opts.hostname}\n`, 0o644, once),
    writeFileAtomic(files.resolvConf, await containerResolvConf(opts), 0o644, once),
  ]);
  return files;
}
