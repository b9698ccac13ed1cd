// Kubernetes' websocket remote-command protocol (v4/v5.channel.k8s.io), as
// kubectl 1.32 speaks it for exec and attach: every binary message starts
// with a channel byte (0 stdin, 1 stdout, 2 stderr, 3 error: a Status JSON
// ending the session, 4 resize: {"Width","Height"}); in v5 the message
// [255, channel] closes that channel (kubectl sends it for stdin EOF).
import type { WebSocket, RawData } from 'ws';
import type { ContainerService } from '../../engine/container-service.js';
import type { ContainerRecord } from '../../engine/container-record.js';
import { messageOf } from '../../errdefs.js';
import { queryBool } from '../../kube/api/query-params.js';

export const channelProtocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

export interface StreamRequest {
  kind: 'exec' | 'attach';
  containers: ContainerService;
  container: ContainerRecord;
  query: URLSearchParams;
}

function exitStatus(code: number): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command, exit status ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

function pump(ws: WebSocket, ch: number, stream: NodeJS.ReadableStream | null | undefined): Promise<void> {
  if (!stream) return Promise.resolve();
  return new Promise((resolve) => {
    stream.on('data', (d: Buffer | string) => {
      if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([ch]), Buffer.isBuffer(d) ? d : Buffer.from(d)]));
    });
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
}

export async function serveStream(ws: WebSocket, r: StreamRequest): Promise<void> {
  const q = r.query;
  const wantStdin = queryBool(q, 'stdin');
  const tty = queryBool(q, 'tty');
  // PodExecOptions defaults stdout and stderr to true; only an explicit false turns one off.
  const wantStdout = !q.has('stdout') || queryBool(q, 'stdout');
  const wantStderr = !q.has('stderr') || queryBool(q, 'stderr');
  let stdin: NodeJS.WritableStream | null = null;
  let resize: ((cols: number, rows: number) => Promise<void>) | undefined;
  const pendingIn: Buffer[] = [];
  let stdinClosed = false;
  ws.on('message', (raw: RawData) => {
    const data = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as ArrayBuffer);
    if (!data.length) return;
    const ch = data[0];
    const body = data.subarray(1);
    if (ch === STDIN) {
      if (stdin) stdin.write(body);
      else pendingIn.push(body);
    } else if (ch === RESIZE && resize) {
      try {
        const s = JSON.parse(body.toString()) as { Width: number; Height: number };
        void resize(s.Width, s.Height).catch(() => undefined);
      } catch {
        /* a malformed resize is ignored, as the kubelet does */
      }
    } else if (ch === CLOSE && body[0] === STDIN) {
      stdinClosed = true;
      stdin?.end();
    }
  });
  // The status frame, then (once it is written) the close frame: two writes, as the kubelet makes them.
  const finish = (status: Record<string, unknown>): void => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(Buffer.concat([Buffer.from([ERROR]), Buffer.from(JSON.stringify(status))]), () => {
      if (ws.readyState === ws.OPEN) ws.close(1000);
    });
  };
  try {
    if (r.kind === 'exec') {
      const cmd = q.getAll('command');
      const { Id } = r.containers.execs.create(r.container.Id, { Cmd: cmd, AttachStdin: wantStdin, AttachStdout: wantStdout, AttachStderr: wantStderr, Tty: tty });
      const e = await r.containers.execs.start(Id, {});
      const s = e.session!;
      stdin = s.stdin;
      resize = (cols, rows) => s.resize(cols, rows);
      for (const b of pendingIn) stdin?.write(b);
      if (stdinClosed) stdin?.end();
      ws.once('close', () => stdin?.end());
      await Promise.all([pump(ws, STDOUT, wantStdout ? s.stdout : null), pump(ws, STDERR, wantStderr ? s.stderr : null)]);
      await e.done;
      finish(exitStatus(e.ExitCode ?? 1));
    } else {
      const streams = await r.containers.attachNow(r.container.Id, { stdin: wantStdin });
      stdin = streams.stdin;
      for (const b of pendingIn) stdin?.write(b);
      ws.once('close', () => streams.close());
      await Promise.all([pump(ws, STDOUT, streams.stdout), pump(ws, STDERR, streams.stderr)]);
      finish(exitStatus(0));
    }
  } catch (err) {
    finish({ metadata: {}, status: 'Failure', message: messageOf(err), reason: 'InternalError' });
  }
}
