// tug command line: global flags, then dispatch to a command module loaded on
// demand (start-up stays fast: `tug version` imports only what it needs).
import type { Command, Ctx } from './context.js';

type Loader = () => Promise<Command>;

const cmd =
  (load: () => Promise<Record<string, unknown>>, name: string): Loader =>
  async () =>
    (await load())[name] as Command;

const runMod = () => import('./commands/container-run.js');
const lifeMod = () => import('./commands/container-lifecycle.js');
const psMod = () => import('./commands/container-ps.js');
const logsMod = () => import('./commands/container-logs.js');
const execMod = () => import('./commands/container-exec.js');
const inspectMod = () => import('./commands/inspect.js');
const statsMod = () => import('./commands/container-stats.js');
const cpMod = () => import('./commands/container-cp.js');
const eventsMod = () => import('./commands/events.js');
const imageMod = () => import('./commands/images.js');
const volumeMod = () => import('./commands/volumes.js');
const systemMod = () => import('./commands/system.js');
const networkMod = () => import('./commands/networks.js');

/** Top-level commands, as docker has them. */
const commands: Record<string, Loader> = {
  run: cmd(runMod, 'run'),
  create: cmd(runMod, 'create'),
  start: cmd(runMod, 'start'),
  attach: cmd(runMod, 'attach'),
  stop: cmd(lifeMod, 'stop'),
  restart: cmd(lifeMod, 'restart'),
  kill: cmd(lifeMod, 'kill'),
  pause: cmd(lifeMod, 'pause'),
  unpause: cmd(lifeMod, 'unpause'),
  rm: cmd(lifeMod, 'rm'),
  wait: cmd(lifeMod, 'wait'),
  rename: cmd(lifeMod, 'rename'),
  update: cmd(lifeMod, 'update'),
  ps: cmd(psMod, 'ps'),
  logs: cmd(logsMod, 'logs'),
  exec: cmd(execMod, 'exec'),
  inspect: cmd(inspectMod, 'inspect'),
  top: cmd(statsMod, 'top'),
  stats: cmd(statsMod, 'stats'),
  port: cmd(statsMod, 'port'),
  cp: cmd(cpMod, 'cp'),
  events: cmd(eventsMod, 'events'),
  images: cmd(imageMod, 'images'),
  rmi: cmd(imageMod, 'rmi'),
  tag: cmd(imageMod, 'tag'),
  history: cmd(imageMod, 'history'),
  import: cmd(imageMod, 'importImage'),
  save: cmd(imageMod, 'save'),
  load: cmd(imageMod, 'load'),
  pull: cmd(() => import('./commands/registry-commands.js'), 'pull'),
  push: cmd(() => import('./commands/registry-commands.js'), 'push'),
  login: cmd(() => import('./commands/registry-commands.js'), 'login'),
  logout: cmd(() => import('./commands/registry-commands.js'), 'logout'),
  info: cmd(systemMod, 'info'),
  version: cmd(() => import('./commands/version.js'), 'version'),
  build: cmd(() => import('./commands/build.js'), 'build'),
  compose: cmd(() => import('./commands/compose.js'), 'compose'),
};

/** Management commands: `tug container ls`, `tug image rm`, `tug volume create`… */
const groups: Record<string, Record<string, Loader>> = {
  container: {
    ...pick(['run', 'create', 'start', 'attach', 'stop', 'restart', 'kill', 'pause', 'unpause', 'rm', 'wait', 'rename', 'update', 'logs', 'exec', 'top', 'stats', 'port', 'cp']),
    ls: commands.ps!,
    ps: commands.ps!,
    list: commands.ps!,
    inspect: cmd(inspectMod, 'inspectContainer'),
    prune: cmd(systemMod, 'containerPrune'),
  },
  image: {
    ls: commands.images!,
    list: commands.images!,
    rm: commands.rmi!,
    remove: commands.rmi!,
    tag: commands.tag!,
    history: commands.history!,
    import: commands.import!,
    save: commands.save!,
    load: commands.load!,
    inspect: cmd(inspectMod, 'inspectImage'),
    prune: cmd(systemMod, 'imagePrune'),
    bootstrap: cmd(() => import('./commands/build.js'), 'imageBootstrap'),
  },
  volume: {
    create: cmd(volumeMod, 'volumeCreate'),
    ls: cmd(volumeMod, 'volumeLs'),
    list: cmd(volumeMod, 'volumeLs'),
    inspect: cmd(volumeMod, 'volumeInspect'),
    rm: cmd(volumeMod, 'volumeRm'),
    remove: cmd(volumeMod, 'volumeRm'),
    prune: cmd(volumeMod, 'volumePrune'),
  },
  network: {
    create: cmd(networkMod, 'networkCreate'),
    ls: cmd(networkMod, 'networkLs'),
    list: cmd(networkMod, 'networkLs'),
    inspect: cmd(networkMod, 'networkInspect'),
    rm: cmd(networkMod, 'networkRm'),
    remove: cmd(networkMod, 'networkRm'),
    prune: cmd(networkMod, 'networkPrune'),
    connect: cmd(networkMod, 'networkConnect'),
    disconnect: cmd(networkMod, 'networkDisconnect'),
  },
  builder: { prune: cmd(() => import('./commands/build.js'), 'builderPrune'), build: cmd(() => import('./commands/build.js'), 'build') },
  system: {
    df: cmd(systemMod, 'df'),
    prune: cmd(systemMod, 'systemPrune'),
    info: commands.info!,
    events: commands.events!,
  },
};

function pick(names: string[]): Record<string, Loader> {
  return Object.fromEntries(names.map((n) => [n, commands[n]!]));
}

/** Commands served by other parts of tug, not by the Engine API client. */
const services: Record<string, (argv: string[]) => Promise<unknown>> = {
  daemon: async (argv) => (await import('../engine-api/daemon-main.js' as string)).runDaemon(argv),
  registry: async (argv) => (await import('../registry/main.js' as string)).runRegistryCommand(argv),
  server: async (argv) => (await import('../cluster/main.js' as string)).runServerCommand(argv),
  // Not through cluster/main.js: an agent restart should not wait for the API server's and controllers' modules to load.
  agent: async (argv) => (await import('../node/run-agent.js' as string)).runAgentCommand(argv),
  token: async (argv) => (await import('../cluster/token-command.js' as string)).runTokenCommand(argv),
  dashboard: async (argv) => (await import('./commands/dashboard.js' as string)).runDashboardCommand(argv),
};

const USAGE = `Usage:  tug [OPTIONS] COMMAND

A self-sufficient runtime for containers

Options:
  -H, --host string   Daemon socket to connect to (default $TUG_HOST or unix:///run/tug/tug.sock)

Management Commands:
  compose     Define and run multi-container applications
  container   Manage containers
  image       Manage images
  system      Manage tug
  volume      Manage volumes
  network     Manage networks

Commands:
  ${Object.keys(commands).sort().join(' ')}

Services:
  daemon  registry  server  agent  token  dashboard
`;

export async function main(argv: string[]): Promise<void> {
  let host = process.env.TUG_HOST || 'unix:///run/tug/tug.sock';
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-H' || a === '--host') host = argv[++i] ?? '';
    else if (a.startsWith('--host=')) host = a.slice('--host='.length);
    else if (a.startsWith('-H') && a.length > 2) host = a.slice(2);
    else if (a === '-D' || a === '--debug') continue;
    else break;
  }
  const rest = argv.slice(i);
  const name = rest[0];
  if (!name || name === '--help' || name === 'help' || name === '-h') {
    process.stdout.write(USAGE);
    return;
  }
  if (name === '-v' || name === '--version') {
    const { clientVersion } = await import('./version-info.js');
    process.stdout.write(`tug version ${clientVersion()}\n`);
    return;
  }
  const service = services[name];
  if (service) {
    try {
      await service(rest.slice(1));
    } catch (e) {
      process.stderr.write(`tug ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    }
    return;
  }
  let loader: Loader | undefined = commands[name];
  let args = rest.slice(1);
  let shown = name;
  const group = groups[name];
  if (group) {
    const sub = rest[1];
    loader = sub ? group[sub] : undefined;
    if (!loader) {
      process.stderr.write(
        `${sub ? `tug: '${name} ${sub}' is not a tug command.\n` : ''}Usage:  tug ${name} COMMAND\n\nCommands:\n  ${Object.keys(group).join('\n  ')}\n`,
      );
      process.exitCode = sub ? 125 : 0;
      return;
    }
    args = rest.slice(2);
    shown = `${name} ${sub}`;
  }
  if (!loader) {
    process.stderr.write(`tug: '${name}' is not a tug command.\nSee 'tug --help'\n`);
    process.exitCode = 125;
    return;
  }
  const code = await runCommand(loader, host, args, shown);
  // Hijacked sockets, stdin readers or signal handlers may still hold the loop open.
  process.exit(code);
}

async function runCommand(loader: Loader, host: string, args: string[], shown: string): Promise<number> {
  // Loaded here, not at the top, so `tug --version` and `--help` never pay for node:http.
  const [{ UsageError }, { ApiClient, DaemonError }, { CliError }, command] = await Promise.all([
    import('./args.js'),
    import('./client.js'),
    import('./context.js'),
    loader(),
  ]);
  if (args[0] === '--help' && !command.ownHelp) {
    process.stdout.write(`Usage:  tug ${shown} [OPTIONS]\n\nSee the docker ${shown} reference: tug accepts the same flags.\n`);
    return 0;
  }
  try {
    const ctx: Ctx = {
      client: new ApiClient(host),
      host,
      out: (s) => process.stdout.write(s),
      err: (s) => process.stderr.write(s),
    };
    return (await command(ctx, args)) ?? 0;
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof UsageError) {
      process.stderr.write(e.message.includes('See ') ? `${e.message}\n` : `${e.message}\nSee 'tug ${shown} --help'.\n`);
      return 125;
    }
    if (e instanceof DaemonError) {
      process.stderr.write(`Error response from daemon: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
