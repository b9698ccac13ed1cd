// resolv.conf read and written the way Docker's libnetwork resolvconf package
// does, so a container's file matches dockerd's byte for byte: nameserver,
// search and options parsed line by line (text after '#' ignored, the last
// search/options line wins), files built as search, nameservers, options, and
// the filter that drops loopback (and, without IPv6, IPv6) nameservers and
// falls back to Google's resolvers when none is left.
import { readFile } from 'node:fs/promises';

export const HOST_RESOLV_CONF = '/etc/resolv.conf';
/** Where systemd-resolved lists the real upstreams behind its 127.0.0.53 stub. */
export const SYSTEMD_RESOLV_CONF = '/run/systemd/resolve/resolv.conf';

const IPV4_BLOCK = '(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)';
const IPV4 = `(${IPV4_BLOCK}\\.){3}${IPV4_BLOCK}`;
const IPV6 = '([0-9A-Fa-f]{0,4}:){2,7}([0-9A-Fa-f]{0,4})(%\\w+)?';
const NS_ANY = new RegExp(`^\\s*nameserver\\s*((${IPV4})|(${IPV6}))\\s*$`);
const NS_IPV4 = new RegExp(`^\\s*nameserver\\s*((${IPV4}))\\s*$`);
const NS_IPV6 = new RegExp(`^\\s*nameserver\\s*((${IPV6}))\\s*$`);
const SEARCH = /^\s*search\s*(([^\s]+\s*)*)$/;
const OPTIONS = /^\s*options\s*(([^\s]+\s*)*)$/;
const LOCALHOST_NS = /^nameserver\s+((127\.([0-9]{1,3}\.){2}[0-9]{1,3})|(::1)$)\s*\n*/gm;
const IPV6_NS = new RegExp(`^nameserver\\s+${IPV6}\\s*\\n*`, 'gm');

export const DEFAULT_IPV4_DNS = ['8.8.8.8', '8.8.4.4'];
const DEFAULT_IPV6_DNS = ['2001:4860:4860::8888', '2001:4860:4860::8844'];

function lines(text: string): string[] {
  return text.split('\n').map((l) => {
    const i = l.indexOf('#');
    return i === -1 ? l : l.slice(0, i);
  });
}

export function nameserversOf(text: string, kind: 'ip' | 'ipv4' | 'ipv6' = 'ip'): string[] {
  const re = kind === 'ipv4' ? NS_IPV4 : kind === 'ipv6' ? NS_IPV6 : NS_ANY;
  const out: string[] = [];
  for (const l of lines(text)) {
    const m = re.exec(l);
    if (m) out.push(m[1]!);
  }
  return out;
}

function lastFields(text: string, re: RegExp): string[] {
  let out: string[] = [];
  for (const l of lines(text)) {
    const m = re.exec(l);
    if (m) out = (m[1] ?? '').split(/\s+/).filter(Boolean);
  }
  return out;
}

export const searchOf = (text: string): string[] => lastFields(text, SEARCH);
export const optionsOf = (text: string): string[] => lastFields(text, OPTIONS);

/** Docker's resolvconf.Build: search (unless it is just "."), nameservers, options. */
export function buildResolvConf(nameservers: readonly string[], search: readonly string[], options: readonly string[]): string {
  let out = '';
  if (search.length && search.join(' ').trim() !== '.') out += `search ${search.join(' ')}\n`;
  for (const ns of nameservers) out += `nameserver ${ns}\n`;
  if (options.length && options.join(' ').trim() !== '') out += `options ${options.join(' ')}\n`;
  return out;
}

/** Docker's FilterResolvDNS: loopback nameservers out (IPv6 ones too without IPv6), Google's if none is left. */
export function filterResolvConf(text: string, ipv6Enabled: boolean): string {
  let out = text.replace(LOCALHOST_NS, '');
  if (!ipv6Enabled) out = out.replace(IPV6_NS, '');
  if (nameserversOf(out).length === 0) {
    const dns = [...DEFAULT_IPV4_DNS, ...(ipv6Enabled ? DEFAULT_IPV6_DNS : [])];
    out += '\n' + dns.map((d) => `nameserver ${d}`).join('\n');
  }
  return out;
}

export function isLoopbackIpv4(ip: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip);
}

/** The file's text, or undefined when it does not exist. */
export async function readResolvConf(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Docker's resolvconf.Path(): /etc/resolv.conf, unless its one nameserver is
 * systemd-resolved's 127.0.0.53 stub; then the stub's own upstream list.
 */
export async function hostResolvConfPath(): Promise<string> {
  const text = await readResolvConf(HOST_RESOLV_CONF).catch(() => undefined);
  const ns = text === undefined ? [] : nameserversOf(text);
  return ns.length === 1 && ns[0] === '127.0.0.53' ? SYSTEMD_RESOLV_CONF : HOST_RESOLV_CONF;
}
