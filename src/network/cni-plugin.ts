// Runs one CNI plugin binary as the CNI spec says: the command and container
// in CNI_* environment variables, the network config as JSON on stdin, the
// result (or a CNI error object) as JSON on stdout.
import { spawn } from 'node:child_process';
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

export function runCniPlugin(inv: CniInvocation): Promise<CniResult | undefined> {
  const plugin = inv.config.type;
  if (!/^[A-Za-z0-9_.-]+$/.test(plugin)) {
    return Promise.reject(new CniPluginError(plugin, inv.command, 'invalid plugin type'));
  }
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(join(inv.pluginDir, plugin), [], {
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        CNI_COMMAND: inv.command,
        CNI_CONTAINERID: inv.containerId,
        CNI_NETNS: inv.netnsPath,
        CNI_IFNAME: inv.ifName,
        CNI_PATH: inv.pluginDir,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new CniPluginError(plugin, inv.command, e.message)));
    child.on('close', (code) => {
      if (process.env.TUG_TRACE) {
        process.stderr.write(`trace ${inv.containerId.slice(0, 12)} cni ${plugin} ${inv.command} ${(performance.now() - t0).toFixed(1)}ms\n`);
      }
      const stdout = Buffer.concat(out).toString('utf8').trim();
      const stderr = Buffer.concat(err).toString('utf8').trim();
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
        reject(new CniPluginError(plugin, inv.command, msg, cniCode));
        return;
      }
      if (inv.command !== 'ADD' || stdout === '') {
        resolve(undefined);
        return;
      }
      try {
        resolve(JSON.parse(stdout) as CniResult);
      } catch {
        reject(new CniPluginError(plugin, inv.command, `result is not JSON: ${stdout.slice(0, 200)}`));
      }
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify(inv.config));
  });
}
