// The --ui-addr flag of `tug daemon` and `tug server`: where the dashboard
// listens. On by default, on loopback only (a dashboard acts with the rights of
// whoever logs in, so exposing it is an explicit choice); "" or "off" turns it off.
import { invalid } from '../errdefs.js';

/** Defaults clear of tug's other ports (API 6443, agent 10250, registry 5000) and of each other. */
export const DEFAULT_DAEMON_UI_ADDR = '127.0.0.1:9280';
export const DEFAULT_SERVER_UI_ADDR = '127.0.0.1:9281';

export interface UiAddr {
  host: string;
  /** 0: any free port (tests). */
  port: number;
}

/** Parses HOST:PORT ([v6]:PORT too); undefined means the dashboard is off. */
export function parseUiAddr(value: string, command: string): UiAddr | undefined {
  const v = value.trim();
  if (v === '' || v === 'off') return undefined;
  const m = v.match(/^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw invalid(`${command}: --ui-addr "${value}" is not HOST:PORT (or "off")`);
  return { host: m[1] ?? m[2]!, port };
}

export function formatUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The --ui-registry flag: the registry the hub view lists, as image names spell it (HOST[:PORT]); "" means none. */
export function parseUiRegistry(value: string | undefined, command: string): string | undefined {
  const v = (value ?? '').trim();
  if (!v) return undefined;
  if (!/^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::\d{1,5})?$/.test(v)) throw invalid(`${command}: --ui-registry "${value}" is not HOST[:PORT] (a registry as image names spell it, e.g. 127.0.0.1:5000)`);
  return v;
}
