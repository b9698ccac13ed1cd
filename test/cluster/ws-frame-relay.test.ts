// The API server's agent-to-client relay for upgraded streams: each websocket
// frame leaves as its own write (so its own TLS record) even when the agent's
// frames arrive together or split; a SPDY upgrade passes through unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { relayFromAgent, frameLength } from '../../src/apiserver/ws-frame-relay.js';

function recorder(): { sink: Writable; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes.push(Buffer.from(chunk));
      cb();
    },
  });
  return { sink, writes };
}

/** An unmasked server frame: FIN + opcode, then the payload length in the smallest form. */
function frame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x80 | opcode, n]) : Buffer.from([0x80 | opcode, 126, n >> 8, n & 0xff]);
  return Buffer.concat([head, payload]);
}

const wsHead = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n');

test('the status frame and the close frame the agent wrote together leave as two writes', async () => {
  const status = frame(2, Buffer.concat([Buffer.from([3]), Buffer.from('{"metadata":{},"status":"Success"}')]));
  const close = frame(8, Buffer.from([0x03, 0xe8]));
  const big = frame(2, Buffer.alloc(300, 1));
  const from = new PassThrough();
  const { sink, writes } = recorder();
  const done = relayFromAgent(from, sink);
  // The big frame arrives split; the last two frames arrive in one chunk with the head's tail.
  const all = Buffer.concat([wsHead, big, status, close]);
  from.write(all.subarray(0, 10));
  from.write(all.subarray(10, wsHead.length + 100));
  from.end(all.subarray(wsHead.length + 100));
  await done;
  assert.deepEqual(writes, [wsHead, big, status, close]);
  assert.equal(frameLength(big.subarray(0, 200)), 0, 'a partial frame is not a frame');
});

test('a SPDY upgrade is relayed byte for byte', async () => {
  const head = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\n\r\n');
  const body = Buffer.from([0x80, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00]);
  const from = new PassThrough();
  const { sink, writes } = recorder();
  const done = relayFromAgent(from, sink);
  from.end(Buffer.concat([head, body]));
  await done;
  assert.deepEqual(Buffer.concat(writes), Buffer.concat([head, body]));
});
