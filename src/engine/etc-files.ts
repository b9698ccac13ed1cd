// /etc/hosts, /etc/hostname and /etc/resolv.conf for a container, written in
// its directory and bind-mounted in, as Docker does.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';

export interface EtcFiles {
  hosts: string;
  hostname: string;
  resolvConf: string;
}

/** Host nameservers minus loopback ones (unreachable from a container's own netns). */
async function containerResolvConf(hostNetwork: boolean): Promise<string> {
  let text = '';
  try {
    text = await readFile('/etc/resolv.conf', 'utf8');
  } catch {
    text = '';
  }
  if (hostNetwork) return text;
  const lines = text.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l));
  if (!lines.some((l) => /^\s*nameserver\s/.test(l))) {
    // Docker's fallback when the host only has a local resolver.
    lines.push('nameserver 8.8.8.8', 'nameserver 8.8.4.4');
  }
  return lines.join('\n').trim() + '\n';
}

export async function writeEtcFiles(dir: string, opts: { hostname: string; domainname: string; ip: string; hostNetwork: boolean }): Promise<EtcFiles> {
  const files: EtcFiles = {
    hosts: join(dir, 'hosts'),
    hostname: join(dir, 'hostname'),
    resolvConf: join(dir, 'resolv.conf'),
  };
  const fqdn = opts.domainname ? `${opts.hostname}.${opts.domainname} ` : '';
  let hosts: string;
  if (opts.hostNetwork) {
    hosts = await readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1\tlocalhost\n');
  } else {
    hosts = [
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      'fe00::0\tip6-localnet',
      'ff00::0\tip6-mcastprefix',
      'ff02::1\tip6-allnodes',
      'ff02::2\tip6-allrouters',
      ...(opts.ip ? [`${opts.ip}\t${fqdn}${opts.hostname}`] : []),
    ].join('\n') + '\n';
  }
  await Promise.all([
    writeFileAtomic(files.hosts, hosts),
    writeFileAtomic(files.hostname, `${opts.hostname}\n`),
    writeFileAtomic(files.resolvConf, await containerResolvConf(opts.hostNetwork)),
  ]);
  return files;
}
