// SPDY/3.1 framing and session, without kubectl: every frame type round-trips
// through encodeFrame/FrameReader (also when the bytes arrive one at a time),
// header blocks survive the shared zlib stream across several frames, and a
// session answers SYN_STREAM, PING, DATA and FIN as a peer would see them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { inflateSync } from 'node:zlib';
import { encodeFrame, FrameReader, FLAG_FIN, type Frame } from '../../src/node/spdy/frames.js';
import { HeaderCompressor, HeaderDecompressor, encodeHeaderBlock, decodeHeaderBlock, type SpdyHeaders } from '../../src/node/spdy/header-codec.js';
import { spdy3Dictionary } from '../../src/node/spdy/dictionary.js';
import { SpdySession, type SpdyStream } from '../../src/node/spdy/session.js';

const samples: Frame[] = [
  { type: 'data', streamId: 5, flags: FLAG_FIN, data: Buffer.from('hello') },
  { type: 'data', streamId: 0x7fffffff, flags: 0, data: Buffer.alloc(0) },
  { type: 'syn_stream', streamId: 1, associatedId: 0, priority: 3, flags: FLAG_FIN, headerBlock: Buffer.from([1, 2, 3]) },
  { type: 'syn_reply', streamId: 3, flags: 0, headerBlock: Buffer.from([9]) },
  { type: 'headers', streamId: 7, flags: FLAG_FIN, headerBlock: Buffer.from([4, 5]) },
  { type: 'rst_stream', streamId: 9, status: 5 },
  { type: 'settings', flags: 1, entries: [{ flags: 0, id: 7, value: 65536 }, { flags: 1, id: 4, value: 100 }] },
  { type: 'ping', id: 0xfffffffe },
  { type: 'goaway', lastGoodStreamId: 11, status: 0 },
  { type: 'window_update', streamId: 13, delta: 4096 },
];

test('every frame type round-trips, whole and byte by byte', () => {
  const all = Buffer.concat(samples.map(encodeFrame));
  assert.deepEqual(new FrameReader().push(all), samples);
  const r = new FrameReader();
  const got: Frame[] = [];
  for (const b of all) got.push(...r.push(Buffer.from([b])));
  assert.deepEqual(got, samples);
});

test('control frames carry version 3 and the 24-bit length; data frames have C=0', () => {
  const ping = encodeFrame({ type: 'ping', id: 1 });
  assert.deepEqual([...ping], [0x80, 3, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1]);
  const data = encodeFrame({ type: 'data', streamId: 1, flags: FLAG_FIN, data: Buffer.from('ab') });
  assert.deepEqual([...data], [0, 0, 0, 1, 1, 0, 0, 2, 0x61, 0x62]);
  assert.throws(() => new FrameReader().push(Buffer.from([0x80, 2, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1])), /unsupported version 2/);
});

test('the dictionary is the spec one (1423 bytes, starting with options and ending enq=0.)', () => {
  assert.equal(spdy3Dictionary.length, 1423);
  assert.deepEqual([...spdy3Dictionary.subarray(0, 11)], [0, 0, 0, 7, 0x6f, 0x70, 0x74, 0x69, 0x6f, 0x6e, 0x73]);
  assert.equal(spdy3Dictionary.subarray(-6).toString(), 'enq=0.');
});

test('header blocks share one zlib stream per direction and decode in order', async () => {
  const c = new HeaderCompressor();
  const d = new HeaderDecompressor();
  const blocks: SpdyHeaders[] = [
    { streamtype: 'error', port: '8080', requestid: '0' },
    { streamtype: 'data', port: '8080', requestid: '0' },
    {},
    { streamtype: 'data', port: '9999', requestid: '1' },
  ];
  const compressed = [];
  for (const b of blocks) compressed.push(await c.compress(b));
  // The first block names the dictionary (FDICT), as a Go zlib reader with SPDY's dictionary expects.
  assert.equal(compressed[0][1] & 0x20, 0x20);
  assert.deepEqual(decodeHeaderBlock(inflateSync(compressed[0], { dictionary: spdy3Dictionary, finishFlush: 2 })), blocks[0]);
  // The later ones repeat earlier text, so they are shorter than the first.
  assert.ok(compressed[1].length < compressed[0].length);
  for (let i = 0; i < blocks.length; i++) assert.deepEqual(await d.decompress(compressed[i]), blocks[i]);
  assert.deepEqual(decodeHeaderBlock(encodeHeaderBlock({ Port: '1' })), { port: '1' });
  assert.throws(() => decodeHeaderBlock(Buffer.from([0, 0, 0, 1, 0, 0, 0, 9])), /malformed/);
  c.close();
  d.close();
});

/** A connected pair of byte streams, like a socket and its peer. */
function duplexPair(): [Duplex, Duplex] {
  const ab = new PassThrough();
  const ba = new PassThrough();
  return [Duplex.from({ readable: ba, writable: ab }), Duplex.from({ readable: ab, writable: ba })];
}

test('a session replies to SYN_STREAM, echoes client PINGs, moves DATA both ways with FIN and WINDOW_UPDATE', async () => {
  const [serverSide, clientSide] = duplexPair();
  // Destroying one end aborts the other (AbortError); that is the expected way these pairs end.
  clientSide.on('error', () => undefined);
  serverSide.on('error', () => undefined);
  const streams: SpdyStream[] = [];
  const session = new SpdySession(serverSide, (s) => {
    streams.push(s);
    void s.reply({ ok: 'yes' });
    // Echo what the client sends, upper-cased, then finish.
    const chunks: Buffer[] = [];
    s.on('data', (b: Buffer) => chunks.push(b));
    s.on('end', () => s.end(Buffer.concat(chunks).toString().toUpperCase()));
  });
  const compressor = new HeaderCompressor();
  const decompressor = new HeaderDecompressor();
  const reader = new FrameReader();
  const received: Frame[] = [];
  let wake: () => void = () => undefined;
  clientSide.on('data', (b: Buffer) => {
    received.push(...reader.push(b));
    wake();
  });
  const waitFor = async (pred: (f: Frame) => boolean): Promise<Frame> => {
    for (;;) {
      const f = received.find(pred);
      if (f) return f;
      await new Promise<void>((r) => (wake = r));
    }
  };

  clientSide.write(encodeFrame({ type: 'syn_stream', streamId: 1, associatedId: 0, priority: 0, flags: 0, headerBlock: await compressor.compress({ streamtype: 'data', port: '80' }) }));
  const reply = await waitFor((f) => f.type === 'syn_reply');
  assert.equal(reply.type === 'syn_reply' && reply.streamId, 1);
  assert.deepEqual(reply.type === 'syn_reply' && (await decompressor.decompress(reply.headerBlock)), { ok: 'yes' });
  assert.deepEqual(streams[0].headers, { streamtype: 'data', port: '80' });

  clientSide.write(encodeFrame({ type: 'ping', id: 1 }));
  assert.deepEqual(await waitFor((f) => f.type === 'ping'), { type: 'ping', id: 1 });

  clientSide.write(encodeFrame({ type: 'data', streamId: 1, flags: 0, data: Buffer.from('hello ') }));
  clientSide.write(encodeFrame({ type: 'data', streamId: 1, flags: FLAG_FIN, data: Buffer.from('spdy') }));
  const fin = await waitFor((f) => f.type === 'data' && (f.flags & FLAG_FIN) !== 0);
  const body = Buffer.concat(received.filter((f): f is Extract<Frame, { type: 'data' }> => f.type === 'data' && f.streamId === 1).map((f) => f.data)).toString();
  assert.equal(body, 'HELLO SPDY');
  assert.equal(fin.type === 'data' && fin.streamId, 1);
  const acked = received.filter((f) => f.type === 'window_update').reduce((n, f) => n + (f.type === 'window_update' ? f.delta : 0), 0);
  assert.equal(acked, 'hello spdy'.length);

  // Even (server-side) or reused ids are refused with RST_STREAM PROTOCOL_ERROR.
  clientSide.write(encodeFrame({ type: 'syn_stream', streamId: 1, associatedId: 0, priority: 0, flags: 0, headerBlock: await compressor.compress({}) }));
  assert.deepEqual(await waitFor((f) => f.type === 'rst_stream'), { type: 'rst_stream', streamId: 1, status: 1 });

  const closed = new Promise<void>((r) => session.once('close', r));
  clientSide.write(encodeFrame({ type: 'goaway', lastGoodStreamId: 0, status: 0 }));
  await closed;
  compressor.close();
  decompressor.close();
  clientSide.destroy();
});
