// A container's resolv.conf before any embedded DNS, as Docker's sandbox
// setupDNS (and the updateDNS that follows it on an IPv4-only network) makes
// it: with --dns, --dns-search or --dns-option the file is rebuilt from them
// (each falling back to the host's own lines of its kind); without, it is the
// host's file with loopback and IPv6 nameservers filtered out. Also returns
// the external resolvers Docker would hand its embedded DNS server.
import { buildResolvConf, filterResolvConf, isLoopbackIpv4, nameserversOf, optionsOf, searchOf } from './resolv-conf-file.js';

export interface DnsSettings {
  servers?: readonly string[] | null;
  search?: readonly string[] | null;
  options?: readonly string[] | null;
}

export interface ExternalResolver {
  ip: string;
  /** A loopback resolver of the host (reachable from the host's namespace only). */
  hostLoopback: boolean;
}

export interface SandboxResolvConf {
  text: string;
  external: ExternalResolver[];
}

export function hasDnsSettings(dns: DnsSettings): boolean {
  return Boolean(dns.servers?.length || dns.search?.length || dns.options?.length);
}

/**
 * `hostText` is the origin file (undefined: it does not exist). `hostNetwork`:
 * the container shares the host's namespace, so without settings it gets the
 * host's file as is.
 */
export function sandboxResolvConf(hostText: string | undefined, dns: DnsSettings, hostNetwork = false): SandboxResolvConf {
  const host = hostText ?? '';
  if (hasDnsSettings(dns)) {
    const text = buildResolvConf(
      dns.servers?.length ? dns.servers : nameserversOf(host),
      dns.search?.length ? dns.search : searchOf(host),
      dns.options?.length ? dns.options : optionsOf(host),
    );
    // --dns 127.0.0.x means the container's own loopback, not the host's.
    return { text, external: nameserversOf(text, 'ipv4').map((ip) => ({ ip, hostLoopback: false })) };
  }
  const external = nameserversOf(host, 'ipv4').map((ip) => ({ ip, hostLoopback: isLoopbackIpv4(ip) }));
  if (hostNetwork) return { text: host, external };
  // setupDNS filters with IPv6 kept; joining the (IPv4-only) network filters again without it.
  return { text: filterResolvConf(filterResolvConf(host, true), false), external };
}
