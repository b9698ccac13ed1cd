// A container's resolv.conf on a user-defined network, and the upstreams its
// embedded DNS forwards to, as Docker's sandbox makes them (setupDNS, then
// rebuildDNS when the resolver starts): `nameserver 127.0.0.11` (plus any IPv6
// nameservers the file had), the search domains and options of --dns-search /
// --dns-option or else of the host's file, and `options ndots:0` unless an
// ndots option is already there. Byte for byte what dockerd 20.10 writes:
//   nameserver 127.0.0.11\noptions ndots:0\n
import { DEFAULT_IPV4_DNS, buildResolvConf, isLoopbackIpv4, nameserversOf, optionsOf, searchOf } from '../dns/resolv-conf-file.js';
import { sandboxResolvConf } from '../dns/sandbox-resolv-conf.js';
import { EMBEDDED_DNS_ADDRESS } from './redirect.js';

export interface UserNetworkDnsInput {
  /** --dns */
  dnsServers?: readonly string[] | null;
  /** --dns-search */
  dnsSearch?: readonly string[] | null;
  /** --dns-option */
  dnsOptions?: readonly string[] | null;
  /** The host's /etc/resolv.conf text (Docker reads that file for user networks); undefined: there is none. */
  hostResolvConf: string | undefined;
}

export interface UserNetworkDns {
  /** The container's /etc/resolv.conf. */
  resolvConf: string;
  /** For the client's `upstreams`: where names the network does not know go. */
  upstreams: string[];
  /** For the client's `ndotsSet`. */
  ndotsSet: boolean;
}

const MAX_UPSTREAMS = 3;

function ndotsIn(options: readonly string[]): boolean {
  return options.some((o) => o.includes('ndots') && /^ndots:\d+$/.test(o));
}

export function userNetworkDns(i: UserNetworkDnsInput): UserNetworkDns {
  const sandbox = sandboxResolvConf(i.hostResolvConf, { servers: i.dnsServers, search: i.dnsSearch, options: i.dnsOptions });
  let external = sandbox.external;
  if (external.length === 0) external = nameserversOf(sandbox.text, 'ipv4').map((ip) => ({ ip, hostLoopback: false }));
  const options = optionsOf(sandbox.text);
  const ndotsSet = ndotsIn(options);
  const resolvConf = buildResolvConf(
    [EMBEDDED_DNS_ADDRESS, ...nameserversOf(sandbox.text, 'ipv6')],
    searchOf(sandbox.text),
    ndotsSet ? options : [...options, 'ndots:0'],
  );
  // The server runs in the host's namespace: the host's loopback resolvers
  // are reachable from it (Docker dials those from the host's namespace too),
  // a container's own loopback (--dns 127.0.0.x) is not.
  let upstreams = external.filter((e) => e.hostLoopback || !isLoopbackIpv4(e.ip)).map((e) => e.ip);
  if (upstreams.length === 0 && external.length === 0) upstreams = [...DEFAULT_IPV4_DNS];
  return { resolvConf, upstreams: upstreams.slice(0, MAX_UPSTREAMS), ndotsSet };
}

/** Just the resolv.conf text of userNetworkDns. */
export function userNetworkResolvConf(i: UserNetworkDnsInput): string {
  return userNetworkDns(i).resolvConf;
}
