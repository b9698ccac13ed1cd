// An upload's body arrives as fresh 64 KiB Buffers from Node's HTTP parser, and
// little else on the JS heap is allocated while it streams, so V8 frees those
// Buffers only once 64 MB of them have piled up (its external-memory trigger):
// that garbage was the registry's peak RSS during a push. A scavenge (young
// generation only, ~1 ms) every GC_STEP bytes received frees them sooner.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const GC_STEP = 16 << 20;

type Gc = (opts: { type: 'minor' | 'major' }) => void;
let gc: Gc | null | undefined;
let received = 0;

/** Count `n` bytes received; every GC_STEP bytes, collect the young generation. */
export function receivedBytes(n: number): void {
  received += n;
  if (received < GC_STEP) return;
  received = 0;
  if (gc === undefined) {
    try {
      // The flag makes `gc` exist in contexts created after it; this one is never used for anything else.
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as Gc;
    } catch {
      gc = null;
    }
  }
  gc?.({ type: 'minor' });
}
