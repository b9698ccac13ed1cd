// Parse Docker's --security-opt values. The docker CLI reads a seccomp profile
// file itself and sends its JSON inline ("seccomp={...}"); other clients send
// a path, so both are accepted.
import { invalid } from '../../errdefs.js';

export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** 'default' | 'unconfined' | { path } | { json } */
  seccomp: 'default' | 'unconfined' | { path: string } | { json: string };
  /** systempaths=unconfined: no masked or read-only /proc and /sys paths. */
  unmaskSystemPaths: boolean;
  apparmorProfile?: string;
}

function parseBool(v: string, opt: string): boolean {
  if (['true', '1', 't', 'T', 'TRUE', 'True'].includes(v)) return true;
  if (['false', '0', 'f', 'F', 'FALSE', 'False'].includes(v)) return false;
  throw invalid(`invalid --security-opt 2: "${opt}"`);
}

export function parseSecurityOpts(opts: readonly string[]): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false, seccomp: 'default', unmaskSystemPaths: false };
  for (const opt of opts) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    // Docker accepts both "key=value" and the legacy "key:value".
    const m = /^([a-z-]+)[=:]([\s\S]*)$/.exec(opt);
    if (!m) throw invalid(`invalid --security-opt 1: "${opt}"`);
    const [, key, value] = m;
    switch (key) {
      case 'no-new-privileges':
        out.noNewPrivileges = parseBool(value, opt);
        break;
      case 'seccomp':
        if (value === 'unconfined') out.seccomp = 'unconfined';
        else if (value === 'builtin' || value === 'default') out.seccomp = 'default';
        else if (value.trimStart().startsWith('{')) out.seccomp = { json: value };
        else if (value.startsWith('/')) out.seccomp = { path: value };
        else throw invalid(`invalid --security-opt seccomp: "${value}" is neither unconfined, JSON nor an absolute path`);
        break;
      case 'systempaths':
        if (value !== 'unconfined') throw invalid(`invalid --security-opt systempaths: "${value}" (only "unconfined" is supported)`);
        out.unmaskSystemPaths = true;
        break;
      case 'apparmor':
        // This host runs no AppArmor; accept "unconfined" (a no-op) and refuse real profiles.
        if (value !== 'unconfined') throw invalid(`invalid --security-opt apparmor=${value}: AppArmor is not enabled on this host`);
        out.apparmorProfile = value;
        break;
      case 'label':
        // SELinux is not enabled here; "label=disable" is what users pass to opt out, so it is a no-op.
        if (value !== 'disable') throw invalid(`invalid --security-opt label=${value}: SELinux is not enabled on this host`);
        break;
      default:
        throw invalid(`invalid --security-opt 2: "${opt}"`);
    }
  }
  return out;
}
