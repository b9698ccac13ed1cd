// Messages between the engine process and its spawn helper (spawn-helper.ts).
import type { ConmonArgs, ConmonLaunch } from '../conmon/spawn-conmon.js';

export interface SpawnRequest {
  id: number;
  kind?: 'tool';
  cmd: string;
  args: string[];
  /** Absent: the helper's own environment (the parent's, as of the helper's start). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string | Uint8Array;
  timeoutMs?: number;
}

export interface SpawnReply {
  id: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The spawn itself failed (ENOENT...): as child_process reports it. */
  error?: { message: string; code?: string };
}

/** A container's conmon, launched until `runc create` reported (spawn-conmon.ts launchConmonHere). */
export interface ConmonRequest {
  id: number;
  kind: 'conmon';
  args: ConmonArgs;
  cwd: string;
}

export interface ConmonReply {
  id: number;
  launch?: ConmonLaunch;
  error?: { message: string };
}

export type HelperRequest = SpawnRequest | ConmonRequest;
export type HelperReply = SpawnReply | ConmonReply;
