// Docker's embedded DNS for user-defined networks: what the engine calls.
//   servers = new EmbeddedDnsServers({ backend })   one per engine
//   servers.ensure(networkId, gatewayIp)            once the bridge holds the gateway address
//   userNetworkDns({ dnsServers, dnsSearch, dnsOptions, hostResolvConf })
//                                                    a container's resolv.conf and upstreams
//   installDnsRedirect(netnsPath, gatewayIp, ifName) after its interface is up
//   servers.stop(networkId)                          when the network goes
export type { EmbeddedDnsBackend, EmbeddedDnsClient } from './backend.js';
export { EmbeddedDnsServers, type EmbeddedDnsServersOptions } from './servers.js';
export { startEmbeddedDnsServer, EMBEDDED_DNS_PORT, type EmbeddedDnsServer, type EmbeddedDnsServerOptions } from './server.js';
export { installDnsRedirect, removeDnsRedirect, EMBEDDED_DNS_ADDRESS } from './redirect.js';
export { userNetworkDns, userNetworkResolvConf, type UserNetworkDns, type UserNetworkDnsInput } from './resolv-conf.js';
export { nameCandidates, type NameCandidate } from './name-candidates.js';
export { HOST_RESOLV_CONF, readResolvConf } from '../dns/resolv-conf-file.js';
