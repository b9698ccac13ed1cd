// The embedded DNS servers of one engine: one per user-defined network, keyed
// by network id. ensure() is idempotent (a second call for the same network
// and gateway returns the running server; a new gateway replaces it), stop()
// frees the sockets, and calls for one network are serialised so a stop never
// races a start into a leaked socket. Nothing here is persistent: a restarted
// daemon calls ensure() again for each network it finds.
import type { EmbeddedDnsBackend, EmbeddedDnsClient } from './backend.js';
import { startEmbeddedDnsServer, type EmbeddedDnsServer } from './server.js';

export interface EmbeddedDnsServersOptions<C extends EmbeddedDnsClient> {
  backend: EmbeddedDnsBackend<C>;
  /** 53 unless a test says otherwise. */
  port?: number;
  forwardTimeoutMs?: number;
  log?: (msg: string) => void;
}

export class EmbeddedDnsServers<C extends EmbeddedDnsClient = EmbeddedDnsClient> {
  private readonly servers = new Map<string, EmbeddedDnsServer>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: EmbeddedDnsServersOptions<C>) {}

  /** Runs `fn` after every earlier call for the same network. */
  private serial<T>(networkId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(networkId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.queues.set(networkId, tail);
    void tail.then(() => {
      if (this.queues.get(networkId) === tail) this.queues.delete(networkId);
    });
    return next;
  }

  /** Starts the network's server on gateway:53 unless it already runs there. */
  ensure(networkId: string, gatewayIp: string): Promise<EmbeddedDnsServer> {
    return this.serial(networkId, async () => {
      const running = this.servers.get(networkId);
      if (running?.gatewayIp === gatewayIp) return running;
      if (running) {
        this.servers.delete(networkId);
        await running.close();
      }
      const server = await startEmbeddedDnsServer({ networkId, gatewayIp, ...this.opts });
      this.servers.set(networkId, server);
      return server;
    });
  }

  /** Stops the network's server; a network without one is fine. */
  stop(networkId: string): Promise<void> {
    return this.serial(networkId, async () => {
      const running = this.servers.get(networkId);
      this.servers.delete(networkId);
      await running?.close();
    });
  }

  get(networkId: string): EmbeddedDnsServer | undefined {
    return this.servers.get(networkId);
  }

  /** Every server (daemon shutdown). */
  async closeAll(): Promise<void> {
    await Promise.all([...new Set([...this.servers.keys(), ...this.queues.keys()])].map((id) => this.stop(id)));
  }
}
