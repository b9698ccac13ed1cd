// A user-defined network as the engine keeps it: Docker's inspect shape minus
// the live parts (Containers), so the API renders it with little translation.
// One JSON file per network (network-store.ts); the record is the network's
// identity and configuration, never its runtime state (bridge, rules, leases).

export interface IpamPoolConfig {
  Subnet: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

export interface NetworkRecord {
  Name: string;
  /** 64 hex, as Docker's. */
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: 'bridge';
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: IpamPoolConfig[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  /** tug's own: what the network really uses, whatever the user gave (IPAM.Config shows only that). */
  Tug: { bridgeName: string; subnet: string; gateway: string; ipRange?: string; auxAddresses: string[]; icc: boolean; userSubnet: boolean };
}

/** Options Docker's bridge driver knows; others are refused at create. */
export const bridgeOptions = {
  name: 'com.docker.network.bridge.name',
  icc: 'com.docker.network.bridge.enable_icc',
  masquerade: 'com.docker.network.bridge.enable_ip_masquerade',
  hostBinding: 'com.docker.network.bridge.host_binding_ipv4',
  mtu: 'com.docker.network.driver.mtu',
  defaultBridge: 'com.docker.network.bridge.default_bridge',
  inhibitIpv4: 'com.docker.network.bridge.inhibit_ipv4',
  containerIfacePrefix: 'com.docker.network.container_iface_prefix',
} as const;
