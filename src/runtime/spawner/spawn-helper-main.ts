// The spawn helper's own process (see spawn-helper.ts): runs each requested
// command, collects its output and exit status, and sends them back; launches
// containers' conmons and relays their first report. It leaves when its parent
// does (the IPC channel closes); conmon's monitors do not depend on it.
import { spawn } from 'node:child_process';
import { launchConmonHere } from '../conmon/spawn-conmon.js';
import type { ConmonReply, ConmonRequest, HelperRequest, SpawnReply, SpawnRequest } from './spawn-protocol.js';

function run(req: SpawnRequest): void {
  const reply = (r: Omit<SpawnReply, 'id'>): void => {
    process.send?.({ id: req.id, ...r } satisfies SpawnReply);
  };
  let child;
  try {
    child = spawn(req.cmd, req.args, { env: req.env ?? process.env, cwd: req.cwd, stdio: ['pipe', 'pipe', 'pipe'], timeout: req.timeoutMs });
  } catch (err) {
    reply({ stdout: new Uint8Array(), stderr: new Uint8Array(), code: -1, signal: null, error: { message: (err as Error).message, code: (err as NodeJS.ErrnoException).code } });
    return;
  }
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let failed: { message: string; code?: string } | undefined;
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  child.on('error', (e: NodeJS.ErrnoException) => (failed ??= { message: e.message, code: e.code }));
  child.on('close', (code, signal) => reply({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), code, signal, error: failed }));
  child.stdin.on('error', () => undefined);
  child.stdin.end(req.input ?? undefined);
}

function conmon(req: ConmonRequest): void {
  const reply = (r: Omit<ConmonReply, 'id'>): void => {
    process.send?.({ id: req.id, ...r } satisfies ConmonReply);
  };
  launchConmonHere(req.args, req.cwd).then(
    (launch) => reply({ launch }),
    (err: Error) => reply({ error: { message: err.message } }),
  );
}

process.on('message', (req: HelperRequest) => (req.kind === 'conmon' ? conmon(req) : run(req)));
process.on('disconnect', () => process.exit(0));
