// Pod-to-pod TCP throughput and round-trip time, across nodes (through the
// VXLAN overlay) against the same node (over the node's bridge), on the
// three-namespace-node topology of test/helpers/multinode.ts. Bounded in bytes
// and time: each transfer is --mib MiB (default 256) served by busybox httpd
// from the server pod and fetched by wget to /dev/null, --trials times
// (default 3, median reported); RTT is busybox ping, 20 packets 0.1 s apart.
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { startMultiNodeCluster, type MultiNodeCluster } from '../../test/helpers/multinode.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '256' }, trials: { type: 'string', default: '3' }, backend: { type: 'string', default: 'vxlan' } } });
const mib = Number(values.mib);
const trials = Number(values.trials);

const pod = (name: string, node: string, command: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { nodeName: node, terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', command] }] },
});

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function exec(c: MultiNodeCluster, name: string, script: string): Promise<string> {
  return (await c.kubectl(['exec', name, '--', 'sh', '-c', script])).stdout.trim();
}

/**
 * MiB/s of one transfer from the server pod, timed inside the client pod by
 * busybox's time applet (no kubectl in the measurement; 10 ms resolution,
 * hence transfers of hundreds of MiB).
 */
async function throughput(c: MultiNodeCluster, client: string, ip: string): Promise<number> {
  const out = await exec(c, client, `time wget -q -O /dev/null http://${ip}:8080/blob 2>&1`);
  const m = /real\s+(\d+)m\s*([\d.]+)s/.exec(out);
  if (!m) throw new Error(`no timing: ${out}`);
  return mib / (Number(m[1]) * 60 + Number(m[2]));
}

/** Average ping RTT in ms (busybox: "round-trip min/avg/max = a/b/c ms"). */
async function rtt(c: MultiNodeCluster, client: string, ip: string): Promise<number> {
  const out = await exec(c, client, `ping -c 20 -i 0.1 -q ${ip}`);
  const m = /= [\d.]+\/([\d.]+)\//.exec(out);
  if (!m) throw new Error(`no ping summary: ${out}`);
  return Number(m[1]);
}

async function main(): Promise<void> {
  const c = await startMultiNodeCluster({ nodes: 2, backend: values.backend as 'vxlan' | 'host-gw' });
  try {
    const [a, b] = c.nodes;
    const objs = [
      pod('server', a!.name, `dd if=/dev/zero of=/tmp/blob bs=1M count=${mib} 2>/dev/null && mkdir -p /www && mv /tmp/blob /www/blob && echo ok > /www/index.html && touch /ready && exec httpd -f -p 8080 -h /www`),
      pod('same-node', a!.name, 'exec sleep 3600'),
      pod('cross-node', b!.name, 'exec sleep 3600'),
    ];
    await c.kubectl(['apply', '-f', '-'], { input: objs.map((o) => stringify(o)).join('---\n') });
    await c.until('pods running', async () => {
      const items = JSON.parse((await c.kubectl(['get', 'pods', '-o', 'json'])).stdout).items as any[];
      return items.length === 3 && items.every((p) => p.status?.phase === 'Running');
    });
    await c.until('blob written', async () => (await c.kubectl(['exec', 'server', '--', 'test', '-f', '/ready'], { allowFailure: true })).code === 0);
    const ip = JSON.parse((await c.kubectl(['get', 'pod', 'server', '-o', 'json'])).stdout).status.podIP as string;
    const rows: string[] = [];
    for (const client of ['same-node', 'cross-node']) {
      // The route to the other node appears once both Nodes are published: wait for a first answer.
      await c.until(`${client} reaches the server`, async () => (await c.kubectl(['exec', client, '--', 'timeout', '5', 'wget', '-q', '-O', '/dev/null', `http://${ip}:8080/`], { allowFailure: true })).code === 0 || undefined, 60);
      await throughput(c, client, ip); // warm-up: page cache, ARP, conntrack
      const t: number[] = [];
      for (let i = 0; i < trials; i++) t.push(await throughput(c, client, ip));
      const r = await rtt(c, client, ip);
      rows.push(`| ${client} | ${median(t).toFixed(0)} MiB/s (${t.map((x) => x.toFixed(0)).join(', ')}) | ${r.toFixed(3)} ms |`);
    }
    process.stdout.write(`pod-to-pod over ${values.backend}, ${mib} MiB per transfer, median of ${trials}; RTT: ping x20\n| path | TCP throughput | RTT (avg) |\n| --- | --- | --- |\n${rows.join('\n')}\n`);
  } finally {
    await c.stop();
  }
}

await main();
