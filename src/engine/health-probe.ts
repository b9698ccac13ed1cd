// One healthcheck probe: an exec in the container (so it emits exec_create /
// exec_start / exec_die as Docker's does), its stdout and stderr kept together
// up to 4096 bytes, killed when it outlives the timeout.
import type { ExecService } from './exec-service.js';
import type { ContainerRecord, HealthLogEntry } from './container-record.js';
import { goDuration, type ProbeSettings } from './health-config.js';

/** Docker's maxOutputLen: a probe's output beyond this is cut and marked with "...". */
const maxOutput = 4096;

export interface RunningProbe {
  result: Promise<HealthLogEntry>;
  /** Kills the probe's process (the container is stopping): the result then settles soon. */
  cancel(): void;
}

export function runProbe(execs: ExecService, c: ContainerRecord, probe: ProbeSettings): RunningProbe {
  const start = new Date();
  let pid = 0;
  let cancelled = false;
  const kill = (): void => {
    // The exec's own process, by the PID its start reported.
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  let execId = '';
  const result = (async (): Promise<HealthLogEntry> => {
    try {
      const { Id } = execs.create(c.Id, { Cmd: probe.cmd, AttachStdout: true, AttachStderr: true, User: c.Config.User });
      execId = Id;
      const e = await execs.start(Id, {});
      const session = e.session!;
      pid = session.pid;
      if (cancelled) kill();
      const out = new OutputBuffer();
      const drained = Promise.all([session.stdout, session.stderr].map((s) => (s ? drain(s, out) : undefined)));
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          timedOut = true;
          kill();
          resolve();
        }, probe.timeoutMs);
      });
      // The exit code, then what the streams still carry; a process the probe
      // left behind may hold them open, so the timeout bounds that wait too.
      const code = await Promise.race([session.wait(), timeout.then(() => -1)]);
      await Promise.race([drained, timeout]);
      if (timedOut) return { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: -1, Output: `Health check exceeded timeout (${goDuration(probe.timeoutMs)})` };
      return { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: code, Output: out.text() };
    } catch (err) {
      // Docker records a probe that could not run as a failure with the error as output.
      return { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: -1, Output: err instanceof Error ? err.message : String(err) };
    } finally {
      if (timer) clearTimeout(timer);
      if (execId) execs.release(execId);
    }
  })();
  return {
    result,
    cancel: () => {
      cancelled = true;
      kill();
    },
  };
}

class OutputBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;

  add(chunk: Buffer): void {
    const room = maxOutput - this.size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    if (chunk.length > room) this.truncated = true;
    const part = chunk.subarray(0, room);
    this.chunks.push(part);
    this.size += part.length;
  }

  text(): string {
    const s = Buffer.concat(this.chunks).toString('utf8');
    return this.truncated ? `${s}...` : s;
  }
}

function drain(stream: NodeJS.ReadableStream, out: OutputBuffer): Promise<void> {
  return new Promise((resolve) => {
    stream.on('data', (d: Buffer | string) => out.add(Buffer.isBuffer(d) ? d : Buffer.from(d)));
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
    stream.once('error', () => resolve());
  });
}
