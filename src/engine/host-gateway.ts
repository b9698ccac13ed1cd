// dockerd's HostGatewayIP ("host-gateway" in --add-host): its default bridge's
// gateway, the first address of the bridge's subnet (where host-local IPAM
// puts the gateway), whatever network the container is on.
import { numberToIp, parseCidr } from '../network/cidr.js';

export function hostGatewayIp(defaultBridgeSubnet: string): string {
  return numberToIp(parseCidr(defaultBridgeSubnet).base + 1);
}
