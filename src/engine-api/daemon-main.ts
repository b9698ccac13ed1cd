// `tug daemon`: open the engine on --root, recover containers left by an
// earlier run (even one killed with -9), and serve the Docker API on --socket.
import { parseArgs } from 'node:util';
import { rm } from 'node:fs/promises';
import { messageOf } from '../errdefs.js';
import { stopSignal } from '../util/stop-signal.js';
import { Engine } from '../engine/engine.js';
import { ContainerService } from '../engine/container-service.js';
import { serveDockerApi } from './server.js';
import { preflight } from '../engine/preflight.js';
import { setInsecureRegistries } from '../image/registry-client/hosts.js';
import { engineRegistry, watchEngine } from '../engine/engine-metrics.js';
import { processMetrics } from '../util/metrics-registry.js';
import { parseHostPort, serveMetrics, type MetricsListener } from '../util/metrics-listener.js';
import { DEFAULT_DAEMON_UI_ADDR, parseUiAddr, parseUiRegistry } from '../dashboard/ui-addr.js';
import type { Dashboard } from '../dashboard/dashboard-server.js';

const usage = `Usage: tug daemon [OPTIONS]

Run the tug engine: containers, images, volumes and networks on this host,
served over the Docker Engine API.

Options:
  --root DIR        state directory (default /var/lib/tug)
  --socket PATH     unix socket for the API (default /run/tug/tug.sock)
  --bridge NAME     bridge interface for the default network (default tug0)
  --subnet CIDR     subnet of the default network (default 10.88.0.0/16)
  --ephemeral       on shutdown remove every container and the network (tests)
  --ui-addr HOST:PORT  where the web dashboard listens (default ${DEFAULT_DAEMON_UI_ADDR}; "off" or ""
                    turns it off); \`tug dashboard --root DIR\` prints a login link
  --ui-registry HOST:PORT  the registry the dashboard's Registry view lists (a \`tug registry serve\`
                    or any OCI registry), read with the credentials \`tug login HOST:PORT\` stored
  --insecure-registry HOST:PORT  registry reached over plain HTTP or unverified TLS (repeatable;
                    loopback registries always are)
  --metrics-addr HOST:PORT  serve Prometheus metrics on http://HOST:PORT/metrics (off by default,
                    as dockerd's; unauthenticated, so keep it on loopback, e.g. 127.0.0.1:9323)
`;

export async function runDaemon(argv: string[]): Promise<void> {
  const stopped = stopSignal({ repeatExits: false });
  let values;
  let dashboard: Dashboard | undefined;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        root: { type: 'string', default: '/var/lib/tug' },
        socket: { type: 'string', default: '/run/tug/tug.sock' },
        bridge: { type: 'string', default: 'tug0' },
        subnet: { type: 'string', default: '10.88.0.0/16' },
        ephemeral: { type: 'boolean', default: false },
        'insecure-registry': { type: 'string', multiple: true, default: [] },
        'metrics-addr': { type: 'string' },
        'ui-addr': { type: 'string', default: DEFAULT_DAEMON_UI_ADDR },
        'ui-registry': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`tug daemon: ${messageOf(err)}\n${usage}`);
    process.exitCode = 125;
    return;
  }
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  try {
    setInsecureRegistries(values['insecure-registry'] ?? []);
    if (values['metrics-addr'] !== undefined) parseHostPort(values['metrics-addr'], '--metrics-addr');
    await preflight();
    // Claimed before the engine opens: a taken address refuses the start with nothing made.
    const uiAddr = parseUiAddr(values['ui-addr']!, 'tug daemon');
    if (uiAddr) dashboard = await (await import('../dashboard/dashboard-server.js')).startDashboard({ addr: uiAddr, root: values.root!, command: 'tug daemon', engineSocket: values.socket!, registry: parseUiRegistry(values['ui-registry'], 'tug daemon') });
  } catch (err) {
    process.stderr.write(`tug daemon: ${messageOf(err)}\n`);
    process.exitCode = 1;
    return;
  }
  const engine = await Engine.open({ root: values.root!, bridgeName: values.bridge!, subnet: values.subnet!, ephemeral: values.ephemeral });
  const containers = new ContainerService(engine);
  await containers.recover();
  const api = await serveDockerApi(containers, values.socket!);
  let metrics: MetricsListener | undefined;
  if (values['metrics-addr'] !== undefined) {
    watchEngine(engine);
    metrics = await serveMetrics(values['metrics-addr'], '--metrics-addr', [processMetrics(), engineRegistry]);
    process.stderr.write(`tug daemon: metrics on ${metrics.url}\n`);
  }
  engine.events.emit('daemon', 'start', engine.root);
  if (dashboard) process.stdout.write(`tug daemon: dashboard on ${dashboard.url} (a login link: tug dashboard --root ${values.root})\n`);

  let stopping = false;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    engine.shuttingDown = true;
    await api.close().catch(() => undefined);
    await dashboard?.close().catch(() => undefined);
    await metrics?.close();
    await engine.dns.closeAll().catch(() => undefined);
    if (values.ephemeral) {
      for (const c of engine.containers.all()) {
        await containers.remove(c.Id, { force: true, removeVolumes: true }).catch((err) => {
          process.stderr.write(`tug daemon: removing ${c.Id.slice(0, 12)}: ${messageOf(err)}\n`);
        });
      }
      // User-defined networks, the default bridge and the isolation chain: nothing left on the host.
      await engine.networks.destroyAll().catch((err) => process.stderr.write(`tug daemon: network: ${messageOf(err)}\n`));
      await engine.releaseHostState().catch(() => undefined);
    }
    // Without --ephemeral, containers keep running under their monitors (live restore).
    await rm(values.socket!, { force: true });
    process.exit(0);
  };
  void stopped.then(shutdown);
}
