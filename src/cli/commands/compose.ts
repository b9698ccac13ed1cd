// tug compose: the global flags (-f, -p, --project-directory, --env-file,
// --profile), loading the project through the model's loader, and dispatch
// to the subcommands, each in its own file. Argument parsing and rendering
// only: the work is src/compose/project's, through the engine's API.
import type { ComposeProject, LoadOptions } from '../../compose/model/project-types.js';
import { EngineClient } from '../../compose/project/engine-client.js';
import type { Runtime } from '../../compose/project/runtime.js';
import { messageOf } from '../../errdefs.js';
import { loadProject } from '../../compose/model/load-project.js';
import { authKeyOf } from '../../image/registry-client/hosts.js';
import { flags, parseArgs, UsageError } from '../args.js';
import type { Command, Ctx } from '../context.js';
import { registryAuthHeader } from './docker-config.js';
import { progressView, type ProgressView } from './compose-progress.js';

const GLOBAL_FLAGS = flags(
  'list:file,f',
  'string:project-name,p',
  'string:project-directory',
  'list:env-file',
  'list:profile',
  'string:ansi',
  'string:progress',
  'string:parallel',
  'bool:compatibility',
  'bool:verbose',
  'bool:help,h',
);

export interface ComposeCtx {
  ctx: Ctx;
  /** The project as the files say it (loaded on first use); `services` named on the command line are enabled whatever their profiles. */
  project(services?: string[]): Promise<ComposeProject>;
  /** A runtime whose progress is drawn on stderr (quiet: only warnings). */
  runtime(quiet?: boolean): Runtime & { view: ProgressView };
  engine: EngineClient;
  /** stderr is a terminal and --progress/--ansi allow drawing on it. */
  ttyProgress: boolean;
  /** Colours in log prefixes. */
  color: boolean;
}

type Sub = (c: ComposeCtx, argv: string[]) => Promise<number | void>;
type Loader = () => Promise<Sub>;

const lazy = (load: () => Promise<Record<string, unknown>>, name: string): Loader => async () => (await load())[name] as Sub;
const upMod = () => import('./compose-up.js');
const lifeMod = () => import('./compose-lifecycle.js');
const infoMod = () => import('./compose-info.js');
const execMod = () => import('./compose-exec.js');
const imgMod = () => import('./compose-images.js');

const SUBCOMMANDS: Record<string, Loader> = {
  up: lazy(upMod, 'composeUp'),
  create: lazy(upMod, 'composeCreate'),
  down: lazy(upMod, 'composeDown'),
  logs: lazy(() => import('./compose-logs.js'), 'composeLogs'),
  ps: lazy(infoMod, 'composePs'),
  ls: lazy(infoMod, 'composeLs'),
  top: lazy(infoMod, 'composeTop'),
  images: lazy(infoMod, 'composeImages'),
  port: lazy(infoMod, 'composePort'),
  events: lazy(infoMod, 'composeEvents'),
  config: lazy(infoMod, 'composeConfig'),
  version: lazy(infoMod, 'composeVersion'),
  start: lazy(lifeMod, 'composeStart'),
  stop: lazy(lifeMod, 'composeStop'),
  restart: lazy(lifeMod, 'composeRestart'),
  kill: lazy(lifeMod, 'composeKill'),
  pause: lazy(lifeMod, 'composePause'),
  unpause: lazy(lifeMod, 'composeUnpause'),
  rm: lazy(lifeMod, 'composeRm'),
  exec: lazy(execMod, 'composeExec'),
  run: lazy(execMod, 'composeRun'),
  cp: lazy(execMod, 'composeCp'),
  build: lazy(imgMod, 'composeBuild'),
  pull: lazy(imgMod, 'composePull'),
  push: lazy(imgMod, 'composePush'),
};

const USAGE = `Usage:  tug compose [OPTIONS] COMMAND

Define and run multi-container applications

Options:
  -f, --file stringArray           Compose configuration files
  -p, --project-name string        Project name
      --project-directory string   Specify an alternate working directory
      --env-file stringArray       Specify an alternate environment file
      --profile stringArray        Specify a profile to enable
      --progress string            Set type of progress output (auto, tty, plain, quiet)
      --ansi string                Control when to print ANSI control characters ("never"|"always"|"auto")

Commands:
  ${Object.keys(SUBCOMMANDS).sort().join(' ')}
`;

export const compose: Command = async (ctx, argv) => {
  const g = parseArgs(argv, GLOBAL_FLAGS, { interspersed: false });
  const [name, ...rest] = g.args;
  if (!name || g.bools.get('help') || name === 'help') {
    ctx.out(USAGE);
    return 0;
  }
  const loader = SUBCOMMANDS[name];
  if (!loader) throw new UsageError(`unknown docker command: "compose ${name}"\nSee 'tug compose --help'`);
  // --help among the flags, not in a command given to exec/run (`exec web ls --help`).
  const firstWord = rest.findIndex((a) => !a.startsWith('-'));
  const flagsPart = firstWord < 0 ? rest : rest.slice(0, firstWord);
  if (flagsPart.includes('--help') || flagsPart.includes('-h')) {
    ctx.out(`Usage:  tug compose ${name} [OPTIONS] [SERVICE...]\n\nSee the docker compose ${name} reference: tug accepts the same flags.\n`);
    return 0;
  }
  const progress = g.strings.get('progress') ?? 'auto';
  const ansi = g.strings.get('ansi') ?? 'auto';
  const ttyProgress = progress === 'tty' || (progress === 'auto' && ansi !== 'never' && Boolean(process.stderr.isTTY));
  const color = ansi === 'always' || (ansi === 'auto' && Boolean(process.stdout.isTTY));
  const engine = new EngineClient(ctx.client);
  let loaded: Promise<ComposeProject> | undefined;
  const c: ComposeCtx = {
    ctx,
    engine,
    ttyProgress,
    color,
    project: (services) => (loaded ??= loadComposeProject(ctx, g.lists, g.strings, name, services)),
    runtime: (quiet = false) => {
      const view = progressView(ctx.err, ttyProgress, quiet || progress === 'quiet');
      return { engine, progress: view, view, auth: (domain) => registryAuthHeader(authKeyOf(domain)) };
    },
  };
  return (await loader())(c, rest);
};
compose.ownHelp = true;

/** Commands that work from the project name alone when there is no compose file (as docker compose -p NAME down). */
const NAME_ONLY = new Set(['down', 'ps', 'logs', 'stop', 'start', 'restart', 'kill', 'pause', 'unpause', 'rm', 'top', 'images', 'port', 'events', 'exec', 'cp']);

async function loadComposeProject(ctx: Ctx, lists: Map<string, string[]>, strings: Map<string, string>, command: string, services?: string[]): Promise<ComposeProject> {
  const env = process.env;
  const files = lists.get('file') ?? [];
  const opts: LoadOptions = {
    files,
    projectName: strings.get('project-name'),
    projectDirectory: strings.get('project-directory'),
    envFiles: lists.get('env-file') ?? [],
    profiles: lists.get('profile') ?? [],
    env,
    cwd: process.cwd(),
    services,
    stdin: files.includes('-') ? await readStdin() : undefined,
  };
  try {
    const project = await loadProject(opts);
    for (const w of project.warnings ?? []) ctx.err(`WARN[0000] ${w}\n`);
    return project;
  } catch (e) {
    const name = opts.projectName ?? env.COMPOSE_PROJECT_NAME;
    if (!files.length && name && NAME_ONLY.has(command) && /no configuration file provided/.test(messageOf(e))) return nameOnlyProject(name);
    throw e;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A project known only by name: its containers, networks and volumes are found by label. */
export function nameOnlyProject(name: string): ComposeProject {
  return { name, working_dir: process.cwd(), config_files: [], services: {}, disabled_services: {}, networks: {}, volumes: {}, secrets: {}, configs: {}, environment: {} };
}

/** The services named on the command line, checked against the project. */
export function servicesArg(project: ComposeProject, names: string[]): string[] {
  if (!project.config_files.length) return names; // known by name only: any service its containers name
  for (const n of names) {
    if (!project.services[n] && !project.disabled_services[n]) throw new UsageError(`no such service: ${n}`);
  }
  return names;
}
