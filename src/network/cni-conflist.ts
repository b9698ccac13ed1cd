// Executes a CNI network configuration list as a runtime must (CNI spec,
// "Network configuration list runtime semantics"): ADD runs the plugins in
// order, each getting the previous plugin's result as prevResult; DEL runs them
// in reverse, each getting the final ADD result. runtimeConfig is handed only to
// plugins that declare the capability.
import { runCniPlugin, type CniResult } from './cni-plugin.js';

export interface PluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface ConfList {
  cniVersion: string;
  name: string;
  plugins: PluginConf[];
}

export interface ConfListTarget {
  pluginDir: string;
  containerId: string;
  netnsPath: string;
  ifName: string;
  /** Capability-keyed runtime arguments, e.g. { portMappings: [...] }. */
  runtimeConfig: Record<string, unknown>;
}

function pluginConfig(list: ConfList, plugin: PluginConf, target: ConfListTarget, prevResult?: CniResult) {
  const runtimeConfig: Record<string, unknown> = {};
  for (const [cap, on] of Object.entries(plugin.capabilities ?? {})) {
    if (on && target.runtimeConfig[cap] !== undefined) runtimeConfig[cap] = target.runtimeConfig[cap];
  }
  const conf: Record<string, unknown> & { type: string } = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig;
  if (prevResult) conf.prevResult = prevResult;
  return conf;
}

/**
 * ADD through the list. onStep sees the result after every plugin so the caller
 * can persist it: if the process dies midway, DEL still knows what to undo.
 */
export async function confListAdd(
  list: ConfList,
  target: ConfListTarget,
  onStep: (resultSoFar: CniResult) => Promise<void>,
  /** The result of what ran before the list (an interface and address made without plugins). */
  initial?: CniResult,
): Promise<CniResult> {
  let prev: CniResult | undefined = initial;
  for (const plugin of list.plugins) {
    const res = await runCniPlugin({
      command: 'ADD',
      pluginDir: target.pluginDir,
      containerId: target.containerId,
      netnsPath: target.netnsPath,
      ifName: target.ifName,
      config: pluginConfig(list, plugin, target, prev),
    });
    if (!res) throw new Error(`cni ${plugin.type} ADD returned no result`);
    prev = res;
    await onStep(prev);
  }
  if (!prev) throw new Error(`network ${list.name} has no plugins`);
  return prev;
}

/** One plugin's DEL for the target, with the result ADD recorded (if any). */
function delPlugin(list: ConfList, plugin: ConfList['plugins'][number], target: ConfListTarget, lastResult?: CniResult): Promise<CniResult | undefined> {
  return runCniPlugin({
    command: 'DEL',
    pluginDir: target.pluginDir,
    containerId: target.containerId,
    netnsPath: target.netnsPath,
    ifName: target.ifName,
    config: pluginConfig(list, plugin, target, lastResult),
  });
}

/**
 * DEL through the list in reverse. Every plugin is called even when an earlier
 * one fails, so one stuck plugin does not leak the others' state; the first
 * error is rethrown at the end.
 */
export async function confListDel(list: ConfList, target: ConfListTarget, lastResult?: CniResult): Promise<void> {
  let firstErr: unknown;
  for (const plugin of [...list.plugins].reverse()) {
    try {
      await delPlugin(list, plugin, target, lastResult);
    } catch (err) {
      firstErr ??= err;
    }
  }
  if (firstErr) throw firstErr;
}

/**
 * DEL of every plugin at once. Only for a list whose first plugin owns the
 * interface and address and whose later ones (portmap, firewall) just add
 * rules keyed by the container and the recorded result: none of them needs
 * another's DEL to have run. The caller must keep the address from being
 * handed out again until this settles (host-local frees it in the first
 * plugin's DEL while a later one may still be deleting rules naming it).
 * Every plugin is called even when one fails; the first error is rethrown.
 */
export async function confListDelAll(list: ConfList, target: ConfListTarget, lastResult?: CniResult): Promise<void> {
  const settled = await Promise.allSettled(
    list.plugins.map((plugin) => delPlugin(list, plugin, target, lastResult)),
  );
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
