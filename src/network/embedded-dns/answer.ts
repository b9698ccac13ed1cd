// What the embedded DNS answers from the network itself, as Docker's resolver
// (libnetwork resolver.go) does: A from the engine's lookup (TTL 600, the
// addresses rotated per query), an empty NOERROR for AAAA and MX of a known
// name (the network is IPv4-only, and the name must not leak upstream), PTR
// from the engine's reverse lookup. Everything else is forwarded, except a
// single-label A/AAAA query from a client whose resolv.conf set ndots itself:
// that gets an empty answer so its resolver goes on to the search domains.
import type * as dnsPacket from 'dns-packet';
import type { Rcode } from '../dns/dns-reply.js';
import type { EmbeddedDnsBackend, EmbeddedDnsClient } from './backend.js';
import type { Rotation } from './rotation.js';

export const RESPONSE_TTL = 600;

export type LocalAnswer = { rcode: Rcode; answers: dnsPacket.Answer[] } | 'forward';

/** "4.3.2.1.in-addr.arpa" -> "1.2.3.4"; undefined for anything else. */
export function ptrAddress(name: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa\.?$/i.exec(name);
  return m ? `${m[4]}.${m[3]}.${m[2]}.${m[1]}` : undefined;
}

export async function answerLocally<C extends EmbeddedDnsClient>(
  networkId: string,
  question: dnsPacket.Question,
  client: C,
  backend: EmbeddedDnsBackend<C>,
  rotation: Rotation,
): Promise<LocalAnswer> {
  const asked = question.name;
  const name = asked.replace(/\.$/, '').toLowerCase();
  const known = async (): Promise<readonly string[]> => (name ? await backend.lookup(networkId, name, client) : []);
  switch (question.type) {
    case 'A': {
      const ips = await known();
      if (ips.length) {
        const ordered = rotation.order(`${networkId}\0${name}`, ips);
        return { rcode: 'NOERROR', answers: ordered.map((ip) => ({ type: 'A', name: asked, ttl: RESPONSE_TTL, class: 'IN', data: ip })) };
      }
      break;
    }
    case 'AAAA':
    case 'MX':
      if ((await known()).length) return { rcode: 'NOERROR', answers: [] };
      break;
    case 'PTR': {
      const ip = ptrAddress(asked);
      const host = ip && (await backend.reverse?.(networkId, ip, client));
      if (host) return { rcode: 'NOERROR', answers: [{ type: 'PTR', name: asked, ttl: RESPONSE_TTL, class: 'IN', data: host.replace(/\.$/, '') }] };
      break;
    }
    default:
      break;
  }
  if ((question.type === 'A' || question.type === 'AAAA') && client.ndotsSet && !name.includes('.')) return { rcode: 'NOERROR', answers: [] };
  return 'forward';
}
