// compose logs, and the log view `compose up` shows when attached: every
// container's output line by line behind a "service-1  | " prefix in the
// container's colour (on a terminal), stdout and stderr kept apart.
import type { IncomingMessage } from 'node:http';
import type { EngineClient, Query } from '../../compose/project/engine-client.js';
import { serviceContainers } from '../../compose/project/project-state.js';
import { flags, parse } from '../args.js';
import { Demuxer } from '../stdio.js';
import { apiTimestamp } from '../render/units.js';
import { servicesArg, type ComposeCtx } from './compose.js';

const COLORS = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

export interface LogTarget {
  id: string;
  name: string;
}

export interface LogPrinterOptions {
  project: string;
  color: boolean;
  prefix: boolean;
  timestamps?: boolean;
  out(s: string): void;
  err(s: string): void;
}

/** "web-1" for "myproj-web-1": compose v2 drops the project from the prefix. */
export function shortName(project: string, name: string): string {
  return name.startsWith(`${project}-`) ? name.slice(project.length + 1) : name.startsWith(`${project}_`) ? name.slice(project.length + 1) : name;
}

export class LogPrinter {
  private width = 0;
  private readonly colors = new Map<string, number>();

  constructor(private readonly o: LogPrinterOptions) {}

  /** Registers names first so every prefix is padded to the widest. */
  add(names: string[]): void {
    for (const n of names) {
      const s = shortName(this.o.project, n);
      this.width = Math.max(this.width, s.length);
      if (!this.colors.has(n)) this.colors.set(n, COLORS[this.colors.size % COLORS.length]!);
    }
  }

  prefix(name: string): string {
    if (!this.o.prefix) return '';
    const s = `${shortName(this.o.project, name).padEnd(this.width)}  | `;
    const color = this.colors.get(name);
    return this.o.color && color ? `\x1b[${color}m${s}\x1b[0m` : s;
  }

  /** A line of compose's own, the name unpadded and without the bar (`web-1 exited with code 0`). */
  note(name: string, text: string): void {
    const s = shortName(this.o.project, name);
    const color = this.colors.get(name);
    this.o.out(`${this.o.color && color ? `\x1b[${color}m${s}\x1b[0m` : s} ${text}\n`);
  }

  /** Copies one container's log stream until it ends. */
  async follow(target: LogTarget, res: IncomingMessage, tty: boolean): Promise<void> {
    this.add([target.name]);
    const pending: Record<number, string> = { 1: '', 2: '' };
    const emit = (stream: number, data: string): void => {
      pending[stream] += data;
      const lines = pending[stream]!.split('\n');
      pending[stream] = lines.pop()!;
      const write = stream === 2 ? this.o.err : this.o.out;
      for (const l of lines) write(`${this.prefix(target.name)}${l.replace(/\r$/, '')}\n`);
    };
    const demux = new Demuxer((s, d) => emit(s, d.toString('utf8')));
    await new Promise<void>((resolve) => {
      res.on('data', (c: Buffer) => (tty ? emit(1, c.toString('utf8')) : demux.push(c)));
      res.on('end', resolve);
      res.on('close', resolve);
      res.on('error', () => resolve());
    });
    for (const s of [1, 2]) if (pending[s]) emit(s, '\n');
  }
}

/** What a caller learns as each followed container's stream ends. */
export interface FollowHooks {
  /** The stream ended: answer true to follow the container again (its restart policy runs it again). */
  again(t: LogTarget): Promise<boolean>;
  /** The container is over: all its output is printed. */
  done(t: LogTarget): Promise<void>;
}

/** Opens and follows the logs of each target; resolves when all streams end. */
export async function followAll(engine: EngineClient, printer: LogPrinter, targets: Array<LogTarget & { query: Query }>, hooks?: FollowHooks): Promise<void> {
  printer.add(targets.map((t) => t.name));
  await Promise.all(
    targets.map(async (t) => {
      const info = await engine.inspectContainer(t.id);
      const tty = Boolean(info.Config.Tty);
      let query = t.query;
      for (;;) {
        const res = await engine.logs(t.id, query);
        await printer.follow(t, res, tty);
        // The stream ends when the container does: a restart's output comes after this moment.
        const ended = (Date.now() / 1000).toFixed(3);
        query = { ...query, tail: 'all', since: ended };
        if (!hooks || !(await hooks.again(t))) break;
      }
      if (!hooks) return;
      // A run that started and ended while no stream was open still gets printed.
      await printer.follow(t, await engine.logs(t.id, { ...query, follow: undefined }), tty);
      await hooks.done(t);
    }),
  );
}

export async function composeLogs(c: ComposeCtx, argv: string[]): Promise<number> {
  const o = parse(argv, flags('bool:follow,f', 'string:tail,n', 'bool:timestamps,t', 'bool:no-color', 'bool:no-log-prefix', 'string:since', 'string:until', 'string:index'));
  const project = await c.project();
  const services = servicesArg(project, o.args);
  let containers = await serviceContainers(c.engine, project, services, { oneoff: false });
  const index = o.int('index');
  if (index !== undefined) containers = containers.filter((x) => x.number === index);
  const printer = new LogPrinter({
    project: project.name,
    color: c.color && !o.bool('no-color'),
    prefix: !o.bool('no-log-prefix'),
    out: c.ctx.out,
    err: c.ctx.err,
  });
  const query: Query = {
    follow: o.bool('follow') || undefined,
    tail: o.str('tail') ?? 'all',
    timestamps: o.bool('timestamps') || undefined,
    since: o.str('since') !== undefined ? apiTimestamp(o.str('since')!) : undefined,
    until: o.str('until') !== undefined ? apiTimestamp(o.str('until')!) : undefined,
  };
  await followAll(c.engine, printer, containers.map((x) => ({ id: x.id, name: x.name, query })));
  return 0;
}
