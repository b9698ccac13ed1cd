// Runs one CNI plugin binary as the CNI spec says: the command and container
// in CNI_* environment variables, the network config as JSON on stdin, the
// result (or a CNI error object) as JSON on stdout.
import { spawnTool } from '../util/exec-file.js';
import { join } from 'node:path';
import { TugError } from '../errdefs.js';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK';

export interface CniInvocation {
  command: CniCommand;
  pluginDir: string;
  containerId: string;
  netnsPath: string;
  ifName: string;
  /** The full per-plugin config: cniVersion, name, type, prevResult, runtimeConfig... */
  config: Record<string, unknown> & { type: string };
}

/** A CNI result (spec 1.0.0), the parts tug reads. */
export interface CniResult {
  cniVersion: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
  routes?: { dst: string; gw?: string }[];
  [key: string]: unknown;
}

export class CniPluginError extends TugError {
  constructor(plugin: string, command: CniCommand, msg: string, code?: number) {
    // The plugin's own words are the message; which plugin said it goes in front.
    super('internal', `cni ${plugin} ${command}: ${msg}`, { plugin, command, cniCode: code });
  }
}

export async function runCniPlugin(inv: CniInvocation): Promise<CniResult | undefined> {
  const plugin = inv.config.type;
  if (!/^[A-Za-z0-9_.-]+$/.test(plugin)) {
    throw new CniPluginError(plugin, inv.command, 'invalid plugin type');
  }
  const t0 = performance.now();
  const env = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: inv.command,
    CNI_CONTAINERID: inv.containerId,
    CNI_NETNS: inv.netnsPath,
    CNI_IFNAME: inv.ifName,
    CNI_PATH: inv.pluginDir,
  };
  let exit;
  try {
    exit = await spawnTool(join(inv.pluginDir, plugin), [], { env, input: JSON.stringify(inv.config) });
  } catch (e) {
    throw new CniPluginError(plugin, inv.command, (e as Error).message);
  }
  if (process.env.TUG_TRACE) {
    process.stderr.write(`trace ${inv.containerId.slice(0, 12)} cni ${plugin} ${inv.command} ${(performance.now() - t0).toFixed(1)}ms\n`);
  }
  const code = exit.code ?? (exit.signal ? 128 : 1);
  const stdout = Buffer.from(exit.stdout).toString('utf8').trim();
  const stderr = Buffer.from(exit.stderr).toString('utf8').trim();
  if (code !== 0) {
    // Plugins report failures as {"code":N,"msg":"...","details":"..."} on stdout.
    let msg = stderr || `exit ${code}`;
    let cniCode: number | undefined;
    try {
      const e = JSON.parse(stdout) as { code?: number; msg?: string; details?: string };
      cniCode = e.code;
      msg = [e.msg, e.details].filter(Boolean).join(': ') || msg;
    } catch {
      if (stdout) msg = stdout;
    }
    throw new CniPluginError(plugin, inv.command, msg, cniCode);
  }
  if (inv.command !== 'ADD' || stdout === '') return undefined;
  try {
    return JSON.parse(stdout) as CniResult;
  } catch {
    throw new CniPluginError(plugin, inv.command, `result is not JSON: ${stdout.slice(0, 200)}`);
  }
}
