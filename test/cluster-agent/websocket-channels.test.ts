// exec and port-forward over the websocket channel protocol (v4.channel.k8s.io)
// as the Kubernetes Python client speaks it, against a real `tug server` with
// its node agent: query booleans spelled "True", stdin wired to the command,
// the closing status frame then the close frame; port-forward's two-byte port
// preamble per channel, data both ways, a refused port on its error channel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { startAgentCluster, leftovers, suffix, type AgentCluster } from './agent-cluster.js';

let c: AgentCluster;
let ns: string;
let auth: { ca: string; token: string };
const marker = `ws-${suffix()}`;

before(async () => {
  c = await startAgentCluster();
  ns = `wsch-${suffix()}`;
  auth = { ca: await readFile(join(c.dataDir, 'pki', 'ca.crt'), 'utf8'), token: (await readFile(join(c.dataDir, 'tokens.csv'), 'utf8')).split(',')[0] };
  await c.kubectl(['create', 'namespace', ns]);
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web' },
    spec: {
      nodeName: c.nodeName,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'httpd', image: 'busybox', command: ['sh', '-c', `mkdir -p /www && echo ${marker} > /www/index.html && exec httpd -f -p 8080 -h /www`] }],
    },
  };
  await c.kubectl(['-n', ns, 'apply', '-f', '-'], { input: JSON.stringify(pod) });
  await c.until('pod web Running', async () => {
    const p = JSON.parse((await c.kubectl(['-n', ns, 'get', 'pod', 'web', '-o', 'json'])).stdout);
    return p.status?.phase === 'Running' && p.status.podIP;
  });
});

after(async () => {
  if (!c) return;
  await c.kubectl(['-n', ns, 'delete', 'pods', '--all', '--grace-period=1'], { allowFailure: true });
  await c.kubectl(['delete', 'namespace', ns, '--wait=false'], { allowFailure: true });
  const { dataDir, net } = c;
  await c.stop();
  assert.deepEqual(await leftovers(dataDir, net), []);
});

interface Session {
  /** Every binary message, in order: [channel, payload]. */
  messages: Array<[number, Buffer]>;
  closed: Promise<number>;
  ws: WebSocket;
}

/** Opens a websocket as the Python client does (subprotocol v4.channel.k8s.io, bearer token). */
function open(path: string, onOpen: (ws: WebSocket) => void): Promise<Session> {
  const url = `${c.url.replace(/^https/, 'wss')}${path}`;
  const ws = new WebSocket(url, ['v4.channel.k8s.io'], { ca: auth.ca, headers: { authorization: `Bearer ${auth.token}` } });
  const messages: Array<[number, Buffer]> = [];
  ws.on('message', (d: Buffer) => messages.push([d[0], d.subarray(1)]));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      assert.equal(ws.protocol, 'v4.channel.k8s.io');
      onOpen(ws);
      resolve({ messages, closed, ws });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => reject(new Error(`upgrade refused: ${res.statusCode} ${body}`)));
    });
    ws.once('error', reject);
  });
}

const channel = (s: Session, ch: number): string => Buffer.concat(s.messages.filter(([n]) => n === ch).map(([, b]) => b)).toString();

test('exec with stdin=True wires stdin, ends with the status frame and then a close the client sees', async () => {
  const q = new URLSearchParams([
    ['command', 'sh'],
    ['command', '-c'],
    ['command', 'read line; echo got-$line; echo oops >&2; exit 3'],
    ['stdin', 'True'],
    ['stdout', 'True'],
    ['stderr', 'True'],
    ['tty', 'False'],
  ]);
  const s = await open(`/api/v1/namespaces/${ns}/pods/web/exec?${q}`, (ws) => ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('hello\n')])));
  assert.equal(await s.closed, 1000);
  assert.equal(channel(s, 1), 'got-hello\n');
  assert.equal(channel(s, 2), 'oops\n');
  const last = s.messages[s.messages.length - 1];
  assert.equal(last[0], 3, 'the status frame is the last message');
  const status = JSON.parse(last[1].toString());
  assert.equal(status.reason, 'NonZeroExitCode');
  assert.deepEqual(status.details.causes, [{ reason: 'ExitCode', message: '3' }]);

  // stderr=False (any casing) leaves the stderr channel silent; stdout still flows.
  const quiet = new URLSearchParams([
    ['command', 'sh'],
    ['command', '-c'],
    ['command', 'echo out; echo err >&2'],
    ['stdout', 'TRUE'],
    ['stderr', 'False'],
  ]);
  const q2 = await open(`/api/v1/namespaces/${ns}/pods/web/exec?${quiet}`, () => undefined);
  assert.equal(await q2.closed, 1000);
  assert.equal(channel(q2, 1), 'out\n');
  assert.equal(channel(q2, 2), '');
});

test('port-forward over v4.channel.k8s.io: port preamble per channel, data both ways, a refused port on its error channel', async () => {
  const s = await open(`/api/v1/namespaces/${ns}/pods/web/portforward?ports=8080`, () => undefined);
  // The first message of each channel is the port, little-endian: 8080 = 0x1f90.
  await c.until('both channels announce the port', async () => s.messages.length >= 2, 40);
  assert.deepEqual(s.messages.slice(0, 2).map(([ch, b]) => [ch, [...b]]), [
    [0, [0x90, 0x1f]],
    [1, [0x90, 0x1f]],
  ]);
  s.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('GET / HTTP/1.0\r\n\r\n')]));
  // httpd closes after an HTTP/1.0 answer; with its only port done, the websocket closes.
  assert.equal(await s.closed, 1000);
  const data = Buffer.concat(s.messages.slice(2).filter(([ch]) => ch === 0).map(([, b]) => b)).toString();
  assert.match(data, /^HTTP\/1\.[01] 200/);
  assert.ok(data.includes(marker), data);

  const refused = await open(`/api/v1/namespaces/${ns}/pods/web/portforward?ports=8081`, () => undefined);
  assert.equal(await refused.closed, 1000);
  assert.match(channel(refused, 1), /error forwarding port 8081 to pod .*connection refused/);
});

test('port-forward over websocket without a port is refused before the upgrade', async () => {
  await assert.rejects(
    open(`/api/v1/namespaces/${ns}/pods/web/portforward`, () => undefined),
    /upgrade refused: 400 .*"port" is required/,
  );
});
