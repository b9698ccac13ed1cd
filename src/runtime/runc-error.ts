// runc writes its errors as logrus text (`time=... level=error msg="..."`)
// when stderr is not a terminal. Users should see the message itself, e.g.
// 'exec: "nosuch": executable file not found in $PATH'.
import { TugError } from '../errdefs.js';

export function runcMessage(stderr: string): string {
  const msgs: string[] = [];
  const re = /level=(\w+) msg="((?:[^"\\]|\\.)*)"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(stderr))) {
    if (m[1] === 'error' || m[1] === 'fatal') msgs.push(unescapeGo(m[2]!));
  }
  if (msgs.length > 0) return msgs[msgs.length - 1]!;
  return stderr.trim();
}

function unescapeGo(s: string): string {
  try {
    return JSON.parse(`"${s}"`) as string;
  } catch {
    return s.replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  }
}

/**
 * The exit code Docker reports when a process cannot be started: 127 when the
 * binary is missing, 126 when it exists but cannot be executed.
 */
export function startFailureExitCode(message: string): 126 | 127 {
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  return 126;
}

/** A TugError for a failed `runc create`/`exec`, carrying the Docker-style exit code. */
export function startFailure(message: string): TugError {
  // A missing or non-executable entrypoint is the user's input; anything else
  // (cgroups, mounts, namespaces) is ours to explain.
  const userFault = /executable file not found|no such file or directory|permission denied|exec format error/i.test(message);
  // dockerd reports 128 for the rest (e.g. a cgroup value the kernel refuses), and answers 500.
  return new TugError(userFault ? 'invalid' : 'internal', message, { exitCode: userFault ? startFailureExitCode(message) : 128 });
}
