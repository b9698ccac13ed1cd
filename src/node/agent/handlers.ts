// Running a probe or lifecycle handler once: exec inside the container (engine
// exec), an HTTP GET to the pod IP, or a TCP connect. Resolves true on success.
import { request } from 'node:http';
import { connect } from 'node:net';
import type { ExecService } from '../../engine/exec-service.js';
import type { Handler, PodContainer, Probe } from './pod-types.js';

export interface HandlerTarget {
  execs: ExecService;
  containerId: string;
  container: PodContainer;
  podIP: string;
}

function portOf(c: PodContainer, port: number | string): number {
  if (typeof port === 'number') return port;
  const named = c.ports?.find((p) => p.name === port);
  return named ? named.containerPort : Number(port);
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: T): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((resolve) => (timer = setTimeout(() => resolve(onTimeout), ms)))]).finally(() => clearTimeout(timer));
}

export async function runHandler(h: Handler | Probe, t: HandlerTarget, timeoutMs: number): Promise<boolean> {
  try {
    if (h.exec) return await withTimeout(execOk(t, h.exec.command), timeoutMs, false);
    if (h.httpGet) return await withTimeout(httpOk(t, h.httpGet), timeoutMs, false);
    if ('tcpSocket' in h && h.tcpSocket) return await withTimeout(tcpOk(h.tcpSocket.host || t.podIP, portOf(t.container, h.tcpSocket.port)), timeoutMs, false);
  } catch {
    return false;
  }
  return true;
}

async function execOk(t: HandlerTarget, cmd: string[]): Promise<boolean> {
  const { Id } = t.execs.create(t.containerId, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const e = await t.execs.start(Id, {});
  // Drain the output so the process never blocks on a full pipe.
  e.session?.stdout.resume();
  e.session?.stderr?.resume();
  await e.done;
  return e.ExitCode === 0;
}

function httpOk(t: HandlerTarget, g: NonNullable<Probe['httpGet']>): Promise<boolean> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.32' };
    for (const h of g.httpHeaders ?? []) headers[h.name] = h.value;
    const req = request({ host: g.host || t.podIP, port: portOf(t.container, g.port), path: g.path || '/', headers }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve(code >= 200 && code < 400);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

function tcpOk(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}
