// Start writing an upload's bytes to disk while it is still arriving, so the
// fsync that must come before a blob is acknowledged finds little left to do.
// The kernel holds back writeback until gigabytes are dirty, so without this a
// 120 MB layer is written to disk only at the final fsync, after the last byte
// came in (~120 ms per layer here, and skopeo pushes layers one after another).
//
// Durability does not lean on this: the final PUT still fsyncs the file, renames
// it and fsyncs the directory before the 201. What this adds is a datasync every
// STEP bytes, one at a time, overlapping the network.
//
// It syncs through its own descriptor (fdatasync acts on the file, whichever
// descriptor names it), so the writer's stream keeps sole charge of its own fd and
// no sync can land on a descriptor number that was closed and reused.
// A failed datasync is kept and re-thrown: since Linux 4.13 a writeback error is
// reported once per open file, so if this handle saw it and said nothing, a later
// fsync on another handle could succeed over pages the kernel has already dropped.
import { open, type FileHandle } from 'node:fs/promises';

const STEP = 8 << 20;

export class WriteBehind {
  private sinceSync = 0;
  private inFlight: Promise<void> | undefined;
  private failed: unknown;

  private constructor(private readonly fh: FileHandle) {}

  /** Opened before the first byte is written, so this handle hears of every writeback error. */
  static async open(path: string): Promise<WriteBehind> {
    return new WriteBehind(await open(path, 'r'));
  }

  /** `n` more bytes were handed to the file; start a datasync if enough piled up and none runs. */
  wrote(n: number): void {
    this.sinceSync += n;
    if (this.sinceSync < STEP || this.inFlight || this.failed !== undefined) return;
    this.sinceSync = 0;
    this.inFlight = this.fh.datasync().then(
      () => {
        this.inFlight = undefined;
      },
      (err: unknown) => {
        this.inFlight = undefined;
        this.failed = err;
      },
    );
  }

  /** After the last write returned: sync what is left; throws any error a datasync met. */
  async flush(): Promise<void> {
    await this.inFlight;
    if (this.failed !== undefined) throw this.failed;
    await this.fh.datasync();
  }

  /** Wait for a running datasync and close the handle. */
  async close(): Promise<void> {
    await this.inFlight;
    await this.fh.close();
  }
}
