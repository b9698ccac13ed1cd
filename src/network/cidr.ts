// IPv4 address and CIDR arithmetic, just enough for choosing and checking
// subnets. Addresses are handled as unsigned 32-bit numbers.
import { invalid } from '../errdefs.js';

export interface Cidr {
  /** Network address (host bits cleared). */
  base: number;
  prefixLen: number;
}

const ipv4Pattern = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function isIpv4(s: string): boolean {
  const m = ipv4Pattern.exec(s);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

export function ipToNumber(ip: string): number {
  const m = ipv4Pattern.exec(ip);
  if (!m || !isIpv4(ip)) throw invalid(`invalid IPv4 address "${ip}"`);
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function maskOf(prefixLen: number): number {
  return prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
}

/** Parses "10.88.0.0/16" (a bare address counts as /32). Host bits are cleared. */
export function parseCidr(s: string): Cidr {
  const [ip, len, ...rest] = s.split('/');
  const prefixLen = len === undefined ? 32 : Number(len);
  if (rest.length > 0 || !ip || !isIpv4(ip) || !Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > 32) {
    throw invalid(`invalid IPv4 subnet "${s}" (want a.b.c.d/len)`);
  }
  return { base: (ipToNumber(ip) & maskOf(prefixLen)) >>> 0, prefixLen };
}

export function cidrContains(c: Cidr, ip: number): boolean {
  return ((ip & maskOf(c.prefixLen)) >>> 0) === c.base;
}

/** Two prefixes overlap exactly when the shorter one contains the other's base. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const shorter = a.prefixLen <= b.prefixLen ? a : b;
  const longer = shorter === a ? b : a;
  return cidrContains(shorter, longer.base);
}

export function formatCidr(c: Cidr): string {
  return `${numberToIp(c.base)}/${c.prefixLen}`;
}
