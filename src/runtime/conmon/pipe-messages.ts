// conmon reports over its sync and attach pipes with one JSON object per line:
// {"data": N} or {"data": N, "message": "..."}. This turns such a stream into
// awaitable messages.
import type { Readable } from 'node:stream';

export interface ConmonMessage {
  data: number;
  message?: string;
}

export class PipeMessages {
  private buf = '';
  private queue: ConmonMessage[] = [];
  private waiters: Array<{ resolve: (m: ConmonMessage) => void; reject: (e: Error) => void }> = [];
  private ended = false;

  constructor(
    private readonly stream: Readable,
    private readonly what: string,
  ) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.onData(chunk));
    stream.on('end', () => this.onEnd());
    stream.on('error', () => this.onEnd());
    stream.on('close', () => this.onEnd());
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (!line) continue;
      let msg: ConmonMessage;
      try {
        msg = JSON.parse(line) as ConmonMessage;
      } catch {
        msg = { data: -1, message: `conmon sent garbage on its ${this.what}: ${line}` };
      }
      const w = this.waiters.shift();
      if (w) w.resolve(msg);
      else this.queue.push(msg);
    }
  }

  private onEnd(): void {
    if (this.ended) return;
    this.ended = true;
    for (const w of this.waiters.splice(0)) w.reject(new Error(`conmon closed its ${this.what} without reporting`));
  }

  next(): Promise<ConmonMessage> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.ended) return Promise.reject(new Error(`conmon closed its ${this.what} without reporting`));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  close(): void {
    this.stream.destroy();
  }
}
