// What the embedded DNS server asks the engine: who a client is, and what a
// name or address means to that client. The engine owns containers, networks
// and aliases; the server owns sockets and the DNS wire. Callbacks may answer
// at once or with a promise.

/** A container asking, as the engine knows it. The engine may carry more (its id, its networks). */
export interface EmbeddedDnsClient {
  /**
   * Where names the network does not know go, in order (at most three are
   * tried): the container's --dns servers, else the host's resolvers (see
   * userNetworkDns). Empty: nothing is forwarded (SERVFAIL), as on an
   * --internal network, which has no way out.
   */
  upstreams: readonly string[];
  /**
   * The container's resolv.conf set ndots itself (--dns-option or the
   * host's options): single-label A/AAAA queries that are not local then get
   * an empty answer instead of being forwarded, so the resolver moves on to
   * its search domains (Docker's NdotsSet).
   */
  ndotsSet?: boolean;
}

export interface EmbeddedDnsBackend<C extends EmbeddedDnsClient = EmbeddedDnsClient> {
  /** The container whose address on `networkId` is `sourceIp`; undefined: a stranger, answered REFUSED. */
  clientOf(networkId: string, sourceIp: string): C | undefined | Promise<C | undefined>;
  /**
   * IPv4 addresses of `name` (lower-cased, no trailing dot) as `client` sees
   * it: container names, network aliases, short ids, Compose service names
   * with every replica; [] when unknown. Docker searches every network the
   * client is on and also takes "name.network" (see nameCandidates).
   */
  lookup(networkId: string, name: string, client: C): readonly string[] | Promise<readonly string[]>;
  /** The name for a PTR query of `ip`: Docker answers "<container name>.<network name>". */
  reverse?(networkId: string, ip: string, client: C): string | undefined | Promise<string | undefined>;
}
