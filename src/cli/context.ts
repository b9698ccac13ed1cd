// What every command receives: the API client for the chosen host, and the
// few ways a command can end besides returning normally.
import type { ApiClient } from './client.js';

export interface Ctx {
  client: ApiClient;
  host: string;
  out(s: string): void;
  err(s: string): void;
}

/** A command signature: returns the process exit code (default 0). */
export type Command = ((ctx: Ctx, argv: string[]) => Promise<number | void>) & {
  /** The command prints its own --help (from its flag table); others get the generic pointer to docker's reference. */
  ownHelp?: boolean;
};

/** Ends the command with this message on stderr and this exit code, printed as-is. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Docker's y/N confirmation for prune commands; anything but y/yes is no. */
export async function confirm(ctx: Ctx, question: string): Promise<boolean> {
  ctx.out(`${question}\nAre you sure you want to continue? [y/N] `);
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    const onData = (c: Buffer): void => {
      buf += c.toString();
      if (buf.includes('\n')) done();
    };
    const done = (): void => {
      process.stdin.off('data', onData);
      process.stdin.off('end', done);
      process.stdin.pause();
      resolve(buf);
    };
    process.stdin.on('data', onData);
    process.stdin.on('end', done);
  });
  const a = line.trim().toLowerCase();
  return a === 'y' || a === 'yes';
}
