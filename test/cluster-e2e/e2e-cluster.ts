// A real `tug server` with its embedded node agent for the end-to-end tests:
// own temp data dir, free loopback port, a unique pod bridge, pod range AND
// service range (so NodePorts/ClusterIP rules never meet another test's cluster).
// stop() deletes nothing in the cluster; callers clean their namespaces first,
// then stop() kills only the PID it started and removes the data dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes, randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool, type RunResult } from '../../src/util/exec-file.js';
import { lostNodePortDraw, withOwnNodePorts } from '../helpers/node-port-range.js';
import { tugBin, type NodeNet } from '../cluster-agent/agent-cluster.js';
import { until as untilShared } from '../helpers/until.js';

export const hex = (n: number): string => randomBytes(n).toString('hex');

export interface E2eCluster {
  dataDir: string;
  net: NodeNet;
  serviceCidr: string;
  /** The node engine's Docker API socket. */
  engineSocket: string;
  /** The `tug server` process (benchmarks read its CPU time). */
  pid: number;
  kubectl(args: string[], opts?: { input?: string; allowFailure?: boolean }): Promise<RunResult>;
  /** Polls fn every 500 ms until truthy (bounded by count, not a timing threshold on success). */
  until<T>(what: string, fn: () => Promise<T | undefined | false>, tries?: number): Promise<T>;
  output(): string;
  /** The server's --service-node-port-range. */
  nodePortRange: [number, number];
  stop(): Promise<void>;
}

export async function startE2eCluster(): Promise<E2eCluster> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tug-e2e-'));
  const octet = randomInt(160, 250);
  const third = randomInt(0, 127) * 2;
  const net = { bridge: `te2${hex(4)}`, cidr: `10.${octet}.${third}.0/24` };
  const serviceCidr = `10.${octet}.${third + 1}.0/24`;
  // TUG_SERVER_NODE_ARGS: Node flags for the server (a benchmark profiling it: "--cpu-prof --cpu-prof-dir=DIR").
  const nodeArgs = (process.env.TUG_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const env = { ...process.env, KUBECONFIG: join(dataDir, 'kubeconfig'), KUBECACHEDIR: join(dataDir, 'kubectl-cache') };
  let child!: ChildProcess;
  let out = '';
  let exited!: Promise<void>;
  const until = <T>(what: string, fn: () => Promise<T | undefined | false>, tries = 240): Promise<T> =>
    untilShared(what, fn, { tries, everyMs: 500, context: () => out.slice(-2000) });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(t);
    await rm(dataDir, { recursive: true, force: true });
  };
  // NodePorts of its own (test/helpers/node-port-range.ts): drawn again if another live cluster holds them.
  const nodePorts = await withOwnNodePorts(async (ports) => {
    out = '';
    child = spawn(process.execPath, [...nodeArgs, tugBin, 'server', '--data-dir', dataDir, '--port', '0', '--ui-addr', '127.0.0.1:0', '--node-name', `e2e-${hex(3)}`, '--node-bridge', net.bridge, '--pod-cidr', net.cidr, '--service-cidr', serviceCidr, ...ports.flags], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const c = child;
    exited = new Promise<void>((r) => c.once('exit', () => r()));
    try {
      await until('tug server with its node agent', async () => /node agent registered node/.test(out) || (c.exitCode !== null && Promise.reject(new Error(out))), 180);
    } catch (err) {
      // A lost draw exits before making anything: the data dir stays for the next one.
      if (lostNodePortDraw(err)) await exited;
      else await stop();
      throw err;
    }
    return ports;
  });
  return {
    dataDir,
    nodePortRange: [nodePorts.low, nodePorts.high],
    net,
    serviceCidr,
    engineSocket: join(dataDir, 'engine.sock'),
    pid: child.pid!,
    kubectl: (args, opts = {}) => runTool('kubectl', args, { env, input: opts.input, allowFailure: opts.allowFailure }),
    until,
    output: () => out,
    stop,
  };
}
