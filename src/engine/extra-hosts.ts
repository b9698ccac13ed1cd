// --add-host entries ("name:address"), checked at create as dockerd checks
// them (opts.ValidateExtraHost: split at the first colon, so the address may
// be IPv6) and turned into /etc/hosts lines at start. "host-gateway" stands
// for the daemon's host-gateway address, which dockerd takes from its default
// bridge's gateway, for containers on any network.
import { isIP } from 'node:net';
import { invalid } from '../errdefs.js';

export const HOST_GATEWAY = 'host-gateway';

function split(entry: string): [string, string] | undefined {
  const i = entry.indexOf(':');
  return i > 0 ? [entry.slice(0, i), entry.slice(i + 1)] : undefined;
}

/** Throws dockerd's 400 messages for a malformed entry. */
export function validateExtraHosts(entries: readonly string[] | null | undefined): void {
  for (const e of entries ?? []) {
    const parts = split(e);
    if (!parts) throw invalid(`bad format for add-host: ${JSON.stringify(e)}`);
    if (parts[1] !== HOST_GATEWAY && !isIP(parts[1].trim())) throw invalid(`invalid IP address in add-host: ${JSON.stringify(parts[1])}`);
  }
}

/** The /etc/hosts lines ("address\tname"), host-gateway replaced by `hostGatewayIp`. */
export function extraHostLines(entries: readonly string[] | null | undefined, hostGatewayIp: string | undefined): string[] {
  return (entries ?? []).map((e) => {
    const parts = split(e);
    if (!parts) return e;
    let addr = parts[1];
    if (addr === HOST_GATEWAY) {
      if (!hostGatewayIp) throw invalid('unable to derive the IP value for host-gateway');
      addr = hostGatewayIp;
    }
    return `${addr}\t${parts[0]}`;
  });
}
