// Runs each running container's healthcheck on its interval and keeps
// State.Health as Docker does (daemon/health.go): "starting" until the first
// success or `retries` failures in a row after the start period; a status
// change is an event `health_status: <status>`; the record is saved after
// every probe so the state survives a daemon restart.
import type { Engine } from './engine.js';
import type { ExecService } from './exec-service.js';
import type { ContainerRecord, HealthLogEntry, HealthState } from './container-record.js';
import { probeSettings, type ProbeSettings } from './health-config.js';
import { runProbe, type RunningProbe } from './health-probe.js';

/** Docker's maxLogEntries. */
const keptResults = 5;

interface Monitor {
  probe: ProbeSettings;
  startedMs: number;
  timer?: NodeJS.Timeout;
  running?: RunningProbe;
}

export class HealthMonitor {
  private readonly monitors = new Map<string, Monitor>();

  /** Probes run as execs of the engine's one ExecService, so they show in ExecIDs while they run, as Docker's do. */
  constructor(
    private readonly engine: Engine,
    private readonly execs: ExecService,
  ) {}

  /**
   * At every start (and for running containers after a daemon restart):
   * status back to "starting", failing streak 0, the log kept. Call with the
   * container's lock held, before the record is saved.
   */
  start(c: ContainerRecord): void {
    this.stopTimers(c.Id);
    const probe = probeSettings(c.Config.Healthcheck);
    if (!probe) return;
    c.State.Health = { Status: 'starting', FailingStreak: 0, Log: c.State.Health?.Log ?? [] };
    const m: Monitor = { probe, startedMs: Date.parse(c.State.StartedAt) || Date.now() };
    this.monitors.set(c.Id, m);
    this.schedule(c.Id, m);
  }

  /** At exit or removal: no more probes; Docker then reports "unhealthy". Call before the record is saved. */
  stop(c: ContainerRecord): void {
    if (!this.stopTimers(c.Id)) return;
    if (c.State.Health) c.State.Health = { ...c.State.Health, Status: 'unhealthy' };
  }

  /** How many containers are being probed (tests check nothing is left). */
  get size(): number {
    return this.monitors.size;
  }

  private stopTimers(id: string): boolean {
    const m = this.monitors.get(id);
    if (!m) return false;
    this.monitors.delete(id);
    if (m.timer) clearTimeout(m.timer);
    m.running?.cancel();
    return true;
  }

  private schedule(id: string, m: Monitor): void {
    const c = this.engine.containers.find(id);
    const inStartPeriod = c?.State.Health?.Status === 'starting' && Date.now() - m.startedMs < m.probe.startPeriodMs;
    m.timer = setTimeout(() => void this.probeOnce(id, m), inStartPeriod ? m.probe.startIntervalMs : m.probe.intervalMs);
    m.timer.unref();
  }

  private async probeOnce(id: string, m: Monitor): Promise<void> {
    m.timer = undefined;
    const c = this.engine.containers.find(id);
    if (this.monitors.get(id) !== m || !c || this.engine.shuttingDown) return;
    if (!c.State.Running) {
      // Its start failed after the monitor was set up (no exit to stop it): nothing to probe any more.
      this.monitors.delete(id);
      return;
    }
    if (c.State.Paused) {
      this.schedule(id, m); // a paused container is not probed, as Docker's exec refuses it
      return;
    }
    m.running = runProbe(this.execs, c, m.probe);
    const result = await m.running.result;
    m.running = undefined;
    if (this.monitors.get(id) !== m || this.engine.shuttingDown) return; // stopped meanwhile: the result is dropped
    await this.engine.lock.run(id, async () => {
      const cur = this.engine.containers.find(id);
      if (this.monitors.get(id) !== m || !cur?.State.Health) return;
      const before = cur.State.Health.Status;
      cur.State.Health = nextHealth(cur.State.Health, result, m);
      await this.engine.containers.save(cur);
      if (cur.State.Health.Status !== before) this.engine.emitContainer(cur, `health_status: ${cur.State.Health.Status}`);
    }).catch((err) => process.stderr.write(`tug: healthcheck of ${id.slice(0, 12)}: ${String(err)}\n`));
    if (this.monitors.get(id) === m) this.schedule(id, m);
  }
}

/** daemon/health.go handleProbeResult: failures inside the start period do not count while starting. */
function nextHealth(h: HealthState, result: HealthLogEntry, m: Monitor): HealthState {
  const Log = [...h.Log, result].slice(-keptResults);
  if (result.ExitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log };
  const inStartPeriod = h.Status === 'starting' && Date.parse(result.Start) - m.startedMs < m.probe.startPeriodMs;
  if (inStartPeriod) return { ...h, Log };
  const FailingStreak = h.FailingStreak + 1;
  return { Status: FailingStreak >= m.probe.retries ? 'unhealthy' : h.Status, FailingStreak, Log };
}
