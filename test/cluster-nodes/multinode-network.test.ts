// Three nodes, each its own network namespace (as separate machines), joined
// to a `tug server` on the host: node IPAM, the VXLAN overlay between nodes,
// the service proxy and cluster DNS on every node, and the API server
// reaching each node's streaming endpoint at its own address. One cluster for
// the whole file; the last test pulls a node's cable.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { cidrContains, ipToNumber, parseCidr } from '../../src/network/cidr.js';
import { runTool } from '../../src/util/exec-file.js';
import { startMultiNodeCluster, hostLeftovers, type MultiNodeCluster, type TestNode } from '../helpers/multinode.js';

let c: MultiNodeCluster;
const ns = 'mn';

interface PodInfo {
  name: string;
  node: string;
  ip: string;
}
/** The web pod on each node, by node name. */
const webOn = new Map<string, PodInfo>();

// busybox httpd: / answers the pod's hostname, /cgi-bin/ip the address the request came from.
const webScript = [
  'mkdir -p /www/cgi-bin',
  'hostname > /www/index.html',
  "printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $REMOTE_ADDR\\n' > /www/cgi-bin/ip",
  'chmod +x /www/cgi-bin/ip',
  'echo web-started-$(hostname)',
  'exec httpd -f -p 8080 -h /www',
].join(' && ');

const kns = (args: string[], opts: { input?: string; allowFailure?: boolean } = {}) => c.kubectl(['-n', ns, ...args], opts);

/** wget from inside a pod; stdout, or '' when it failed. */
async function fetchInPod(pod: string, url: string): Promise<string> {
  // busybox's own timeout: this busybox's wget -T crashes.
  const r = await kns(['exec', pod, '--', 'timeout', '5', 'wget', '-q', '-O', '-', url], { allowFailure: true });
  return r.code === 0 ? r.stdout.trim() : '';
}

/** curl from a node's namespace (a shell on that machine), or from the host (a client outside the cluster). */
async function curlFrom(node: TestNode | undefined, url: string): Promise<string> {
  const cmd = ['curl', '-s', '--max-time', '3', url];
  const r = node ? await c.inNode(node, cmd, { allowFailure: true }) : await runTool(cmd[0]!, cmd.slice(1), { allowFailure: true });
  return r.code === 0 ? r.stdout.trim() : '';
}

/** busybox httpd listens on IPv6 and reports an IPv4 peer as [::ffff:a.b.c.d]. */
const plainIp = (s: string): string => s.replace(/^\[::ffff:/, '').replace(/\]$/, '');

async function vxlanCounters(node: TestNode): Promise<{ tx: number; rx: number }> {
  const j = JSON.parse((await c.inNode(node, ['ip', '-j', '-s', 'link', 'show', 'tug.vxlan'])).stdout)[0];
  return { tx: j.stats64.tx.packets, rx: j.stats64.rx.packets };
}

before(async () => {
  c = await startMultiNodeCluster({ nodes: 3 });
  await c.kubectl(['create', 'namespace', ns]);
  const objects = [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }],
            containers: [{ name: 'web', image: 'busybox', command: ['sh', '-c', webScript], ports: [{ containerPort: 8080, name: 'http' }], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }],
          },
        },
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-local' }, spec: { type: 'NodePort', externalTrafficPolicy: 'Local', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'solo' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'solo' } },
        template: {
          metadata: { labels: { app: 'solo' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            nodeSelector: { 'kubernetes.io/hostname': '@NODE0@' },
            containers: [{ name: 'web', image: 'busybox', command: ['sh', '-c', `touch /tmp/ready && ${webScript}`], ports: [{ containerPort: 8080, name: 'http' }], readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1 } }],
          },
        },
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'solo-local' }, spec: { type: 'NodePort', externalTrafficPolicy: 'Local', selector: { app: 'solo' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-sticky' }, spec: { sessionAffinity: 'ClientIP', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
  ];
  await kns(['apply', '-f', '-'], { input: objects.map((o) => stringify(o)).join('---\n').replace('@NODE0@', c.nodes[0]!.name) });
  await c.until('three ready web pods, one per node', async () => {
    const pods = JSON.parse((await kns(['get', 'pods', '-l', 'app=web', '-o', 'json'])).stdout).items as any[];
    const ready = pods.filter((p) => p.status?.podIP && p.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True'));
    if (ready.length !== 3) return false;
    webOn.clear();
    for (const p of ready) webOn.set(p.spec.nodeName, { name: p.metadata.name, node: p.spec.nodeName, ip: p.status.podIP });
    return webOn.size === 3;
  });
  const ep = await c.until('three ready endpoints', async () => {
    const e = JSON.parse((await kns(['get', 'endpoints', 'web', '-o', 'json'], { allowFailure: true })).stdout || '{}');
    return e.subsets?.[0]?.addresses?.length === 3 ? e : undefined;
  });
  assert.ok(ep);
});

after(async () => {
  if (!c) return;
  await c.stop();
  assert.deepEqual(await hostLeftovers(c), [], 'nothing of the test topology is left on the host');
});

test('three nodes are Ready with their own InternalIP and a podCIDR from the cluster CIDR', async () => {
  const nodes = JSON.parse((await c.kubectl(['get', 'nodes', '-o', 'json'])).stdout).items as any[];
  assert.deepEqual(nodes.map((n) => n.metadata.name).sort(), c.nodes.map((n) => n.name).sort());
  const cluster = parseCidr(c.clusterCidr);
  const cidrs = new Set<string>();
  for (const n of nodes) {
    const mine = c.nodes.find((t) => t.name === n.metadata.name)!;
    assert.equal(n.status.conditions.find((x: any) => x.type === 'Ready').status, 'True');
    assert.equal(n.status.addresses.find((a: any) => a.type === 'InternalIP').address, mine.ip, 'InternalIP is the node address on its network');
    assert.match(n.spec.podCIDR, /\/24$/);
    assert.ok(cidrContains(cluster, parseCidr(n.spec.podCIDR).base), `${n.spec.podCIDR} inside ${c.clusterCidr}`);
    assert.deepEqual(n.spec.podCIDRs, [n.spec.podCIDR]);
    assert.equal(n.metadata.annotations['network.tug.io/public-ip'], mine.ip);
    assert.match(n.metadata.annotations['network.tug.io/vtep-mac'], /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    cidrs.add(n.spec.podCIDR);
  }
  assert.equal(cidrs.size, 3, 'distinct podCIDRs');
  // Each web pod's IP comes from its own node's range.
  for (const n of nodes) assert.ok(cidrContains(parseCidr(n.spec.podCIDR), ipToNumber(webOn.get(n.metadata.name)!.ip)));
  // Every node routes the two other ranges through the VXLAN device, pods' MTU leaves room for the header.
  const node0 = c.nodes[0]!;
  const routes = (await c.inNode(node0, ['ip', 'route', 'show', 'dev', 'tug.vxlan'])).stdout;
  for (const n of nodes.filter((x) => x.metadata.name !== node0.name)) assert.match(routes, new RegExp(`${n.spec.podCIDR.replace(/\./g, '\\.')} via \\S+ onlink`));
  const mtu = JSON.parse((await c.inNode(node0, ['ip', '-j', 'link', 'show', 'tug.vxlan'])).stdout)[0].mtu;
  assert.equal(mtu, 1450);
  const podMtu = (await kns(['exec', webOn.get(node0.name)!.name, '--', 'cat', '/sys/class/net/eth0/mtu'])).stdout.trim();
  assert.equal(podMtu, '1450');
});

test('a pod on one node reaches a pod on another by IP through the overlay, which sees its real address', async () => {
  const [b, cc] = [c.nodes[1]!, c.nodes[2]!];
  const from = webOn.get(b.name)!;
  const to = webOn.get(cc.name)!;
  const before = await vxlanCounters(b);
  const seen = await c.until('cross-node request', async () => fetchInPod(from.name, `http://${to.ip}:8080/cgi-bin/ip`), 40);
  assert.equal(plainIp(seen), from.ip, 'no NAT between pods: the peer sees the pod IP');
  assert.equal(await c.until('cross-node page', async () => fetchInPod(from.name, `http://${to.ip}:8080/`), 40), to.name);
  const afterCount = await vxlanCounters(b);
  assert.ok(afterCount.tx > before.tx && afterCount.rx > before.rx, `the packets went through tug.vxlan: ${JSON.stringify({ before, afterCount })}`);
});

test('a ClusterIP Service answers from a pod on every node and from every node, reaching pods on all nodes', async () => {
  const ip = (await kns(['get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
  const all = [...webOn.values()].map((p) => p.name).sort();
  for (const node of c.nodes) {
    const pod = webOn.get(node.name)!.name;
    const answered = new Set<string>();
    await c.until(`every backend answers ${pod} through ${ip}`, async () => {
      const a = await fetchInPod(pod, `http://${ip}/`);
      if (a) answered.add(a);
      return answered.size === 3;
    }, 60);
    assert.deepEqual([...answered].sort(), all);
    const fromNode = new Set<string>();
    await c.until(`every backend answers ${node.name}'s own namespace`, async () => {
      const a = await curlFrom(node, `http://${ip}/`);
      if (a) fromNode.add(a);
      return fromNode.size === 3;
    }, 60);
  }
  // sessionAffinity ClientIP: one client keeps its backend.
  const sticky = (await kns(['get', 'service', 'web-sticky', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
  const client = webOn.get(c.nodes[0]!.name)!.name;
  const first = await c.until('sticky answer', async () => fetchInPod(client, `http://${sticky}/`));
  for (let i = 0; i < 5; i++) assert.equal(await fetchInPod(client, `http://${sticky}/`), first);
});

test('NodePort answers on every node address; externalTrafficPolicy Local keeps the client address and stays on the node', async () => {
  const port = (await kns(['get', 'service', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).stdout;
  const localPort = (await kns(['get', 'service', 'web-local', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).stdout;
  for (const node of c.nodes) {
    // The host is a client outside the cluster, on the nodes' network.
    const answer = await c.until(`NodePort on ${node.ip}`, async () => curlFrom(undefined, `http://${node.ip}:${port}/`), 40);
    assert.ok([...webOn.values()].some((p) => p.name === answer), `a web pod answered: ${answer}`);
    const local = await c.until(`Local NodePort on ${node.ip}`, async () => curlFrom(undefined, `http://${node.ip}:${localPort}/`), 40);
    assert.equal(local, webOn.get(node.name)!.name, 'Local: the node sends only to its own endpoint');
    assert.equal(plainIp(await curlFrom(undefined, `http://${node.ip}:${localPort}/cgi-bin/ip`)), c.hostIp, 'Local: the pod sees the client address');
  }
});

test('externalTrafficPolicy Local drops on a node without an endpoint; a pod that turns unready leaves the Service at once', async () => {
  const port = (await kns(['get', 'service', 'solo-local', '-o', 'jsonpath={.spec.ports[0].nodePort}'])).stdout;
  const [home, other] = [c.nodes[0]!, c.nodes[1]!];
  const pod = await c.until('solo answers on its node', async () => curlFrom(undefined, `http://${home.ip}:${port}/`), 80);
  assert.match(pod, /^solo-/);
  const dropRule = new RegExp(`--dport ${port} -j DROP`);
  await c.until(`${other.name} drops solo-local's NodePort`, async () => dropRule.test((await c.inNode(other, ['iptables-save', '-t', 'filter'])).stdout), 40);
  assert.equal(await curlFrom(undefined, `http://${other.ip}:${port}/`), '', 'no endpoint on that node: no answer');
  // Readiness lost: the endpoint goes to notReadyAddresses and out of every node's rules.
  await kns(['exec', pod, '--', 'rm', '/tmp/ready']);
  await c.until('solo not ready in Endpoints', async () => {
    const e = JSON.parse((await kns(['get', 'endpoints', 'solo-local', '-o', 'json'])).stdout);
    return !e.subsets?.[0]?.addresses?.length && e.subsets?.[0]?.notReadyAddresses?.length === 1;
  }, 40);
  await c.until('no answer once unready', async () => (await curlFrom(undefined, `http://${home.ip}:${port}/`)) === '', 40);
});

test('cluster DNS answers pods on every node', async () => {
  const ip = (await kns(['get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
  for (const p of webOn.values()) {
    const out = await c.until(`DNS from ${p.node}`, async () => {
      const r = await kns(['exec', p.name, '--', 'nslookup', `web.${ns}.svc.cluster.local`], { allowFailure: true });
      return r.stdout.includes(ip) ? r.stdout : undefined;
    }, 120);
    assert.match(out, new RegExp(ip.replace(/\./g, '\\.')));
  }
});

test('kubectl logs and exec reach pods on every node at the node address', async () => {
  for (const node of c.nodes) {
    const p = webOn.get(node.name)!;
    assert.match((await kns(['logs', p.name])).stdout, new RegExp(`web-started-${p.name}`));
    assert.equal((await kns(['exec', p.name, '--', 'hostname'])).stdout.trim(), p.name);
    const n = JSON.parse((await c.kubectl(['get', 'node', node.name, '-o', 'json'])).stdout);
    // The endpoint listens on the node's own address, not on loopback.
    const listening = (await c.inNode(node, ['ss', '-Hltn', `sport = :${n.status.daemonEndpoints.kubeletEndpoint.Port}`])).stdout;
    assert.match(listening, new RegExp(`${node.ip.replace(/\./g, '\\.')}:${n.status.daemonEndpoints.kubeletEndpoint.Port}`));
  }
});

test('an agent restart keeps the node its podCIDR and its pods reachable across nodes', async () => {
  const [a, b] = [c.nodes[0]!, c.nodes[1]!];
  const range = JSON.parse((await c.kubectl(['get', 'node', b.name, '-o', 'json'])).stdout).spec.podCIDR;
  const from = webOn.get(a.name)!.name;
  const target = webOn.get(b.name)!;
  await c.restartAgent(b);
  assert.equal(JSON.parse((await c.kubectl(['get', 'node', b.name, '-o', 'json'])).stdout).spec.podCIDR, range);
  assert.match((await c.inNode(b, ['ip', 'route', 'show', 'dev', 'tug.vxlan'])).stdout, /onlink/, 'routes to the other nodes kept');
  assert.equal(await c.until('the pod on the restarted node answers', async () => fetchInPod(from, `http://${target.ip}:8080/`), 40), target.name);
});

test("a node whose link goes down is unreachable, and reachable again when it comes back", async () => {
  const [a, dead] = [c.nodes[0]!, c.nodes[2]!];
  const from = webOn.get(a.name)!.name;
  const target = webOn.get(dead.name)!.ip;
  assert.equal(plainIp(await c.until('reachable first', async () => fetchInPod(from, `http://${target}:8080/cgi-bin/ip`), 40)), webOn.get(a.name)!.ip);
  await c.setLink(dead, false);
  try {
    assert.equal(await fetchInPod(from, `http://${target}:8080/`), '', 'no answer from a pod on the dead node');
    assert.equal((await c.inNode(a, ['ping', '-c', '1', '-W', '1', dead.ip], { allowFailure: true })).code === 0, false, 'the node itself is gone');
  } finally {
    await c.setLink(dead, true);
  }
  assert.equal(await c.until('reachable again', async () => fetchInPod(from, `http://${target}:8080/`), 40), webOn.get(dead.name)!.name);
});
