// A small docker-style flag parser (docker uses spf13/pflag): -abc bundles,
// -p8080:80 attached values, --flag=value, --flag value, repeated list flags,
// `--` ends flags. Commands like run/exec stop at the first positional so the
// container's own command line (`run busybox ls -l`) is left untouched.
import { TugError } from '../errdefs.js';

export type FlagKind = 'bool' | 'string' | 'list';

export interface FlagSpec {
  long: string;
  short?: string;
  kind: FlagKind;
  /** One line for --help; flags declared without one are not listed there. */
  usage?: string;
  /** The value's name in --help ('string', 'list', 'bytes', 'duration'…); defaults to the kind. */
  valueType?: string;
}

export interface Parsed {
  bools: Map<string, boolean>;
  strings: Map<string, string>;
  lists: Map<string, string[]>;
  args: string[];
}

/** A usage mistake: docker exits 125 for these and names the flag. */
export class UsageError extends TugError {
  constructor(message: string) {
    super('invalid', message);
    this.name = 'UsageError';
  }
}

/**
 * Shorthand to declare flags: 'bool:detach,d' 'string:name' 'list:env,e', with an optional value
 * name for --help ('string:memory,m:bytes'); a [decl, usage] pair also gives the --help line.
 */
export function flags(...decls: Array<string | readonly [string, string]>): FlagSpec[] {
  return decls.map((d) => {
    const [decl, usage] = typeof d === 'string' ? [d, undefined] : d;
    const [kind, names, valueType] = decl.split(':') as [FlagKind, string, string | undefined];
    const [long, short] = names.split(',');
    return { long: long!, short, kind, usage, valueType };
  });
}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[], opts: { interspersed?: boolean } = {}): Parsed {
  const interspersed = opts.interspersed ?? true;
  const byLong = new Map(specs.map((s) => [s.long, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const out: Parsed = { bools: new Map(), strings: new Map(), lists: new Map(), args: [] };

  const set = (spec: FlagSpec, value: string | undefined, shown: string): void => {
    if (spec.kind === 'bool') {
      const v = value === undefined ? 'true' : value;
      if (v !== 'true' && v !== 'false' && v !== '1' && v !== '0') {
        throw new UsageError(`invalid argument "${v}" for "${shown}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
      }
      out.bools.set(spec.long, v === 'true' || v === '1');
    } else if (spec.kind === 'string') {
      out.strings.set(spec.long, value!);
    } else {
      const l = out.lists.get(spec.long) ?? [];
      l.push(value!);
      out.lists.set(spec.long, l);
    }
  };

  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    if (a === '--') {
      out.args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const spec = byLong.get(name);
      if (!spec) throw new UsageError(`unknown flag: --${name}`);
      if (eq >= 0) set(spec, a.slice(eq + 1), `--${name}`);
      else if (spec.kind === 'bool') set(spec, undefined, `--${name}`);
      else {
        if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: --${name}`);
        set(spec, argv[++i], `--${name}`);
      }
      i++;
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // A bundle: every letter is a bool flag until one takes a value, which
      // then swallows the rest of the word (or the next word).
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const spec = byShort.get(c);
        if (!spec) throw new UsageError(`unknown shorthand flag: '${c}' in ${a}`);
        if (spec.kind === 'bool') {
          if (a[j + 1] === '=') {
            set(spec, a.slice(j + 2), `-${c}`);
            break;
          }
          set(spec, undefined, `-${c}`);
          continue;
        }
        let rest = a.slice(j + 1);
        if (rest.startsWith('=')) rest = rest.slice(1);
        if (rest === '') {
          if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: '${c}' in -${c}`);
          rest = argv[++i]!;
        }
        set(spec, rest, `-${c}`);
        break;
      }
      i++;
      continue;
    }
    if (!interspersed) {
      out.args.push(...argv.slice(i));
      break;
    }
    out.args.push(a);
    i++;
  }
  return out;
}

/** Convenience accessors so command code reads naturally. */
export class Opts {
  constructor(readonly p: Parsed) {}
  get args(): string[] {
    return this.p.args;
  }
  bool(name: string): boolean {
    return this.p.bools.get(name) ?? false;
  }
  has(name: string): boolean {
    return this.p.bools.has(name) || this.p.strings.has(name) || this.p.lists.has(name);
  }
  str(name: string): string | undefined {
    return this.p.strings.get(name);
  }
  list(name: string): string[] {
    return this.p.lists.get(name) ?? [];
  }
  int(name: string): number | undefined {
    const v = this.p.strings.get(name);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v)) throw new UsageError(`invalid argument "${v}" for "--${name}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
    return Number(v);
  }
}

export function parse(argv: readonly string[], specs: readonly FlagSpec[], opts: { interspersed?: boolean } = {}): Opts {
  return new Opts(parseArgs(argv, specs, opts));
}

/** Commands state how many positionals they take; docker words the error this way. */
export function requireArgs(o: Opts, cmd: string, min: number, max = Infinity): void {
  const n = o.args.length;
  if (n < min || n > max) {
    const want = min === max ? `exactly ${min}` : max === Infinity ? `at least ${min}` : `between ${min} and ${max}`;
    throw new UsageError(`"tug ${cmd}" requires ${want} argument${min === 1 && max === 1 ? '' : 's'}.\nSee 'tug ${cmd} --help'.`);
  }
}
