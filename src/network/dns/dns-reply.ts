// Encoding a reply to a decoded query: the header bits a resolver copies from
// the question (id, opcode, RD, CD), recursion available, the rcode, and the
// answers cut to what the client can take (512 bytes over UDP unless its EDNS
// record offers more; then TC is set and the client retries over TCP).
import * as dnsPacket from 'dns-packet';

export type Rcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED';

const RCODES: Record<Rcode, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };
/** Opcode bits plus RD and CD: what a reply echoes from its query. */
const ECHOED_FLAGS = 0x7800 | dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED;
const MAX_TCP = 65535;
const MIN_UDP = 512;

export interface ReplyOptions {
  rcode: Rcode;
  answers?: dnsPacket.Answer[];
  /** The cluster DNS owns its zone (AA); Docker's embedded DNS never sets it. */
  authoritative?: boolean;
  tcp: boolean;
}

/** The largest reply the client takes: 64 KiB over TCP, else max(512, its EDNS UDP size). */
export function maxReplySize(q: dnsPacket.Packet, tcp: boolean): number {
  if (tcp) return MAX_TCP;
  const opt = q.additionals?.find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
  return Math.max(MIN_UDP, opt?.udpPayloadSize ?? 0);
}

export function encodeReply(q: dnsPacket.Packet, o: ReplyOptions): Buffer {
  const answers = [...(o.answers ?? [])];
  const flags = ((q.flags ?? 0) & ECHOED_FLAGS) | dnsPacket.RECURSION_AVAILABLE | (o.authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | RCODES[o.rcode];
  const encode = (truncated: boolean): Buffer =>
    dnsPacket.encode({ id: q.id, type: 'response', flags: flags | (truncated ? dnsPacket.TRUNCATED_RESPONSE : 0), questions: q.questions, answers });
  const max = maxReplySize(q, o.tcp);
  let buf = encode(false);
  // Drop answers from the end until it fits, as Docker's resolver does.
  while (buf.length > max && answers.length > 0) {
    answers.pop();
    buf = encode(!o.tcp);
  }
  return buf;
}
