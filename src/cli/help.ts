// `tug CMD --help` drawn from the same flag table the command parses with, so
// the list cannot promise a flag the parser refuses or hide one it takes. The
// layout is docker's (cobra + pflag): usage, summary, aliases, then one line
// per flag sorted by name, the descriptions aligned in one column.
import type { FlagSpec } from './args.js';

export interface CommandHelp {
  /** 'run [OPTIONS] IMAGE [COMMAND] [ARG...]' */
  usage: string;
  summary: string;
  /** 'tug container run, tug run' */
  aliases?: string;
}

export function renderHelp(h: CommandHelp, specs: readonly FlagSpec[]): string {
  const listed = [...new Map(specs.filter((s) => s.usage).map((s) => [s.long, s])).values()].sort((a, b) => a.long.localeCompare(b.long));
  const lefts = listed.map((s) => {
    const names = s.short ? `  -${s.short}, --${s.long}` : `      --${s.long}`;
    const value = s.kind === 'bool' ? '' : ` ${s.valueType ?? s.kind}`;
    return names + value;
  });
  // pflag pads to the longest left part plus three spaces.
  const width = Math.max(0, ...lefts.map((l) => l.length)) + 3;
  const lines = listed.map((s, i) => lefts[i]!.padEnd(width) + s.usage);
  let out = `\nUsage:  tug ${h.usage}\n\n${h.summary}\n`;
  if (h.aliases) out += `\nAliases:\n  ${h.aliases}\n`;
  if (lines.length) out += `\nOptions:\n${lines.join('\n')}\n`;
  return out;
}
