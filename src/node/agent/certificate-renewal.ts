// The loop both of a node's certificates live by (the client certificate of
// tls-bootstrap.ts, the serving certificate of serving-cert.ts): wait until the
// current certificate's rotation point, ask for a new one, and on failure try
// again in 10 s. stop() aborts a request in flight; `renew` sees that as its
// signal being aborted and must then change nothing.
import { X509Certificate } from 'node:crypto';
import { messageOf } from '../../errdefs.js';

export interface CertificateRenewalOptions {
  /** The certificate in use now (PEM): its validity sets the next rotation point. */
  current(): string;
  /** Gets and installs a new certificate; resolves once it is in use. */
  renew(signal: AbortSignal): Promise<void>;
  /** What a failure is logged as, e.g. "client certificate renewal". */
  what: string;
  log?: (m: string) => void;
}

/** When to renew a certificate valid from notBefore to notAfter. */
export function rotationDeadline(notBefore: number, notAfter: number, fraction = rotationFraction()): number {
  return notBefore + (notAfter - notBefore) * fraction;
}

function rotationFraction(): number {
  const env = Number(process.env.TUG_AGENT_CERT_ROTATION_FRACTION);
  if (env > 0 && env < 1) return env;
  return 0.7 + Math.random() * 0.2;
}

const RETRY_MS = 10_000;

export class CertificateRenewal {
  private timer?: NodeJS.Timeout;
  private readonly abort = new AbortController();

  constructor(private readonly o: CertificateRenewalOptions) {}

  /** Renews after delayMs, or at the current certificate's rotation point. */
  start(delayMs?: number): void {
    this.schedule(delayMs);
  }

  stop(): void {
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(delayMs?: number): void {
    if (this.abort.signal.aborted) return;
    const cert = new X509Certificate(this.o.current());
    const wait = delayMs ?? Math.max(0, rotationDeadline(Date.parse(cert.validFrom), Date.parse(cert.validTo)) - Date.now());
    // Unref'd: a pending renewal never keeps a stopping agent alive.
    this.timer = setTimeout(() => void this.run(), Math.min(wait, 2 ** 31 - 1));
    this.timer.unref();
  }

  private async run(): Promise<void> {
    try {
      await this.o.renew(this.abort.signal);
      this.schedule();
    } catch (err) {
      if (this.abort.signal.aborted) return;
      this.o.log?.(`${this.o.what} failed, trying again in ${RETRY_MS / 1000}s: ${messageOf(err)}`);
      this.schedule(RETRY_MS);
    }
  }
}
