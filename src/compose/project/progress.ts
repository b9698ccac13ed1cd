// What the runtime reports while it works, as docker compose's progress
// events: one resource (a network, volume, container or image) and its state
// text ("Creating", "Created", "Started"...). The runtime never prints; the
// CLI draws these as compose does (a redrawn block on a terminal, one line
// per event otherwise).
export type ResourceKind = 'Network' | 'Volume' | 'Container' | 'Image' | 'Service';

export interface ProgressEvent {
  kind: ResourceKind;
  name: string;
  /** "Creating", "Created", "Started", "Error"... as compose words them. */
  status: string;
  /** The step finished (a ✔ on a terminal). */
  done: boolean;
  error?: boolean;
}

export interface Progress {
  event(e: ProgressEvent): void;
  /** Free text from a build or pull (build steps, pull status lines). */
  text(line: string): void;
  /** A warning compose prints on stderr (orphans, external network labels). */
  warn(line: string): void;
}

/** Reports nothing: for callers that need no progress (tests, `compose config`). */
export const silentProgress: Progress = { event: () => {}, text: () => {}, warn: () => {} };

/** A step's start and end as two events on one resource. */
export async function step<T>(p: Progress, kind: ResourceKind, name: string, doing: string, done: string, work: () => Promise<T>): Promise<T> {
  p.event({ kind, name, status: doing, done: false });
  try {
    const r = await work();
    p.event({ kind, name, status: done, done: true });
    return r;
  } catch (e) {
    p.event({ kind, name, status: 'Error', done: true, error: true });
    throw e;
  }
}
