// The agent-to-client half of an upgraded exec/attach/port-forward relay. For
// a websocket, every frame the agent sends leaves on the client's TLS
// connection as its own write, so as its own TLS record, as kube-apiserver's
// own websocket writer does. Clients that poll the socket before reading
// (the Python client's ws_client) never see a frame that arrived in the same
// record as the one before it: the closing status frame and the close frame
// written together left such a client waiting for a close it already had.
// Anything that is not a websocket (SPDY port-forward) is piped unchanged.
import type { Readable, Writable } from 'node:stream';

/** Length of the first whole websocket frame in buf, or 0 if buf does not hold one yet. */
export function frameLength(buf: Buffer): number {
  if (buf.length < 2) return 0;
  const masked = (buf[1] & 0x80) !== 0;
  let len = buf[1] & 0x7f;
  let off = 2;
  if (len === 126) {
    if (buf.length < 4) return 0;
    len = buf.readUInt16BE(2);
    off = 4;
  } else if (len === 127) {
    if (buf.length < 10) return 0;
    len = Number(buf.readBigUInt64BE(2));
    off = 10;
  }
  if (masked) off += 4;
  return buf.length >= off + len ? off + len : 0;
}

const write = (to: Writable, chunk: Buffer): Promise<void> =>
  new Promise((resolve, reject) => {
    to.write(chunk, (err) => (err ? reject(err) : resolve()));
  });

/** Copies from (the agent) to to (the client) until from ends; websocket frames one write each. */
export async function relayFromAgent(from: Readable, to: Writable): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  let head: boolean | undefined; // undefined until the agent's response head is read; then: is it a websocket?
  for await (const chunk of from as AsyncIterable<Buffer>) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    if (head === undefined) {
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) continue;
      const text = pending.subarray(0, end).toString('latin1');
      head = /^HTTP\/1\.1 101/.test(text) && /^upgrade:\s*websocket\s*$/im.test(text);
      await write(to, pending.subarray(0, end + 4));
      pending = pending.subarray(end + 4);
    }
    if (!head) {
      if (pending.length) await write(to, pending);
      pending = Buffer.alloc(0);
      continue;
    }
    for (let n = frameLength(pending); n > 0; n = frameLength(pending)) {
      await write(to, pending.subarray(0, n));
      pending = pending.subarray(n);
    }
  }
  if (pending.length) await write(to, pending);
}
