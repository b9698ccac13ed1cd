// Draws the compose runtime's progress events as docker compose v2 does: on a
// terminal a block redrawn in place (" ✔ Container web-1  Started"), on a pipe
// one plain line per event (" Container web-1  Started"). Everything goes to
// stderr, as compose writes it, so stdout keeps what a command prints.
import type { Progress, ProgressEvent } from '../../compose/project/progress.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface ProgressView extends Progress {
  /** Final redraw; call once the command's work is over. */
  finish(): void;
}

export function progressView(write: (s: string) => void, tty: boolean, quiet = false): ProgressView {
  if (quiet) return { event: () => {}, text: () => {}, warn: (l) => write(`WARN[0000] ${l}\n`), finish: () => {} };
  if (!tty) {
    return {
      event: (e) => write(` ${e.kind} ${e.name}  ${e.status}\n`),
      text: (l) => write(`${l}\n`),
      warn: (l) => write(`WARN[0000] ${l}\n`),
      finish: () => {},
    };
  }
  return new TtyProgress(write);
}

class TtyProgress implements ProgressView {
  private readonly rows = new Map<string, ProgressEvent>();
  private drawn = 0;
  private tick = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly write: (s: string) => void) {
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref();
  }

  event(e: ProgressEvent): void {
    this.rows.set(`${e.kind} ${e.name}`, e);
    this.draw();
  }

  text(line: string): void {
    this.clear();
    this.write(`${line}\n`);
    this.draw();
  }

  warn(line: string): void {
    this.text(`WARN[0000] ${line}`);
  }

  finish(): void {
    clearInterval(this.timer);
    this.draw();
  }

  private clear(): void {
    if (this.drawn) this.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private draw(): void {
    if (!this.rows.size) return;
    this.tick++;
    const rows = [...this.rows.values()];
    const done = rows.filter((r) => r.done).length;
    const width = Math.max(...rows.map((r) => r.kind.length + r.name.length + 1));
    const lines = [`[+] Running ${done}/${rows.length}`];
    for (const r of rows) {
      const mark = r.error ? '\x1b[31m✘\x1b[0m' : r.done ? '\x1b[32m✔\x1b[0m' : SPINNER[this.tick % SPINNER.length];
      lines.push(` ${mark} ${`${r.kind} ${r.name}`.padEnd(width)}  ${r.status}`);
    }
    this.clear();
    this.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}
