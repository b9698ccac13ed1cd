// Docker's resolv.conf says `nameserver 127.0.0.11`; inside the container's
// network namespace this sends 127.0.0.11:53 (UDP and TCP) to the network's
// embedded DNS server on the gateway, port 53:
//   nat OUTPUT      DNAT 127.0.0.11:53 -> gateway:53
//   nat POSTROUTING MASQUERADE what still has a 127/8 source on its way to the
//                   gateway, so the server sees the container's own address
//                   (which is how it knows the client) and replies come back
//   route_localnet=1 on the interface: without it the kernel drops a packet
//                   with a loopback source on its way out of eth0 (and its
//                   reply on the way in)
//   filter INPUT    DROP new packets for 127/8 arriving on any other interface than lo:
//                   route_localnet would otherwise let a neighbour on the
//                   bridge reach the container's loopback-only services
//                   (kube-proxy's fix for CVE-2020-8558)
// Everything lives in three chains of the namespace's own tables plus one jump
// into each. Installing again (a new gateway after a reconnect) rewrites the
// chains in place; the namespace going away takes everything with it.
import { invalid } from '../../errdefs.js';
import { runTool } from '../../util/exec-file.js';
import { isIpv4 } from '../cidr.js';

export const EMBEDDED_DNS_ADDRESS = '127.0.0.11';
const CHAINS = { output: 'TUG-DNS-OUTPUT', postrouting: 'TUG-DNS-POSTROUTING', input: 'TUG-DNS-INPUT' };
const ifNamePattern = /^[A-Za-z0-9_.-]{1,15}$/;

function rules(gatewayIp: string, ifName: string): string {
  return [
    '*nat',
    `:${CHAINS.output} - [0:0]`,
    `:${CHAINS.postrouting} - [0:0]`,
    ...['udp', 'tcp'].flatMap((p) => [
      `-A ${CHAINS.output} -d ${EMBEDDED_DNS_ADDRESS}/32 -p ${p} --dport 53 -j DNAT --to-destination ${gatewayIp}:53`,
      `-A ${CHAINS.postrouting} -s 127.0.0.0/8 -d ${gatewayIp}/32 -o ${ifName} -p ${p} --dport 53 -j MASQUERADE`,
    ]),
    'COMMIT',
    '*filter',
    `:${CHAINS.input} - [0:0]`,
    // Any interface but lo: one re-pointed from keeps its route_localnet.
    `-A ${CHAINS.input} ! -i lo -d 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED -j DROP`,
    'COMMIT',
    '',
  ].join('\n');
}

// One nsenter for the whole install: $1 is the interface; the chains arrive on stdin.
const INSTALL = `set -e
echo 1 > "/proc/sys/net/ipv4/conf/$1/route_localnet"
iptables-restore -w --noflush
iptables -w -t nat -C OUTPUT -j ${CHAINS.output} 2>/dev/null || iptables -w -t nat -A OUTPUT -j ${CHAINS.output}
iptables -w -t nat -C POSTROUTING -j ${CHAINS.postrouting} 2>/dev/null || iptables -w -t nat -A POSTROUTING -j ${CHAINS.postrouting}
iptables -w -t filter -C INPUT -j ${CHAINS.input} 2>/dev/null || iptables -w -t filter -I INPUT 1 -j ${CHAINS.input}
`;

const REMOVE = `
echo 0 > "/proc/sys/net/ipv4/conf/$1/route_localnet" 2>/dev/null || true
for spec in "nat OUTPUT ${CHAINS.output}" "nat POSTROUTING ${CHAINS.postrouting}" "filter INPUT ${CHAINS.input}"; do
  set -- $spec
  while iptables -w -t $1 -D $2 -j $3 2>/dev/null; do :; done
  iptables -w -t $1 -F $3 2>/dev/null || true
  iptables -w -t $1 -X $3 2>/dev/null || true
done
`;

/** Makes 127.0.0.11:53 in the namespace reach gatewayIp:53; idempotent, and re-pointable to another gateway. */
export async function installDnsRedirect(netnsPath: string, gatewayIp: string, ifName = 'eth0'): Promise<void> {
  if (!isIpv4(gatewayIp)) throw invalid(`gateway "${gatewayIp}" is not an IPv4 address`);
  if (!ifNamePattern.test(ifName)) throw invalid(`interface name "${ifName}" is not valid`);
  await runTool('nsenter', [`--net=${netnsPath}`, 'sh', '-c', INSTALL, 'sh', ifName], { input: rules(gatewayIp, ifName) });
}

/** Takes the redirect out of a namespace that lives on (the container left its last user-defined network). */
export async function removeDnsRedirect(netnsPath: string, ifName = 'eth0'): Promise<void> {
  if (!ifNamePattern.test(ifName)) throw invalid(`interface name "${ifName}" is not valid`);
  await runTool('nsenter', [`--net=${netnsPath}`, 'sh', '-c', REMOVE, 'sh', ifName]);
}
