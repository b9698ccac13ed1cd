// Thin wrapper over the runc CLI, always under this daemon's own --root.
import { runTool, type RunResult } from '../util/exec-file.js';
import { TugError, conflict, notFound } from '../errdefs.js';
import { runcMessage } from './runc-error.js';

export interface RuncState {
  id: string;
  pid: number;
  status: string; // creating | created | running | paused | stopped
  bundle: string;
}

export class Runc {
  constructor(
    readonly path: string,
    readonly root: string,
  ) {}

  get globalArgs(): string[] {
    return ['--root', this.root];
  }

  async run(args: string[], input?: string): Promise<RunResult> {
    const res = await runTool(this.path, [...this.globalArgs, ...args], { allowFailure: true, input });
    if (res.code !== 0) throw this.toError(args, res);
    return res;
  }

  private toError(args: string[], res: RunResult): TugError {
    const msg = runcMessage(res.stderr) || res.stdout.trim() || `runc ${args[0]} exited ${res.code}`;
    const id = args[args.length - 1];
    if (/does not exist|not found|no such file/i.test(msg) && !/executable/.test(msg)) {
      return notFound(`no such container: ${id}: ${msg}`);
    }
    if (/not (stopped|running|paused)|cannot (delete|kill|start|pause|resume)|is (running|paused|stopped|not)/i.test(msg)) {
      return conflict(`container ${id}: ${msg}`);
    }
    return new TugError('internal', `runc ${args[0]} ${id}: ${msg}`);
  }

  /** null when runc has no such container. */
  async state(id: string): Promise<RuncState | null> {
    const res = await runTool(this.path, [...this.globalArgs, 'state', id], { allowFailure: true });
    if (res.code !== 0) {
      if (/does not exist|not exist|no such/i.test(res.stderr)) return null;
      throw this.toError(['state', id], res);
    }
    return JSON.parse(res.stdout) as RuncState;
  }

  async list(): Promise<RuncState[]> {
    const res = await this.run(['list', '--format', 'json']);
    const parsed = JSON.parse(res.stdout.trim() || 'null') as RuncState[] | null;
    return parsed ?? [];
  }
}
