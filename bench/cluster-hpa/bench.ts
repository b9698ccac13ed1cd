// Autoscaling reaction on one node: a real `tug server` (its defaults: node
// metrics scraped every 1 s, each HPA synced every 1 s), a Deployment of
// busybox pods requesting 100m CPU, and an autoscaling/v2 HPA (50% CPU, 1 to
// 4 replicas, scale-up without a window, scale-down window --window seconds).
// Each round: a `kubectl exec` starts a busy loop in the first pod (load
// start = the moment the loop announces itself), and a watch on the
// Deployment timestamps the scale-out decision (spec.replicas rises) and the
// new replicas Ready (status.readyReplicas reaches it); then the loop is
// stopped (load end) and the scale-in decision is timed the same way.
// Anchors: Kubernetes' HPA syncs every 15 s on metrics-server data 15-60 s
// old, with a 300 s scale-down window.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { stringify } from 'yaml';
import { KubeClient, type KubeObject } from '../../src/kube/client/kube-client.js';
import { Informer } from '../../src/kube/client/informer.js';
import { startE2eCluster, hex } from '../../test/cluster-e2e/e2e-cluster.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, window: { type: 'string', default: '10' } } });
const rounds = Number(values.rounds);
const windowSeconds = Number(values.window);

const deployment = stringify({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'busybox', command: ['sleep', '36000'], resources: { requests: { cpu: '100m' } } }] },
    },
  },
});

const hpa = stringify({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'web' },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    minReplicas: 1,
    maxReplicas: 4,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
    behavior: { scaleDown: { stabilizationWindowSeconds: windowSeconds } },
  },
});

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const cluster = await startE2eCluster();
  const ns = `bench-${hex(3)}`;
  let informer: Informer | undefined;
  try {
    const client = await KubeClient.fromKubeconfig(join(cluster.dataDir, 'kubeconfig'));
    const env = { ...process.env, KUBECONFIG: join(cluster.dataDir, 'kubeconfig') };
    await cluster.kubectl(['create', 'namespace', ns]);
    await cluster.kubectl(['-n', ns, 'apply', '-f', '-'], { input: deployment });
    await cluster.kubectl(['-n', ns, 'rollout', 'status', 'deploy/web', '--timeout=300s']);
    await cluster.kubectl(['-n', ns, 'apply', '-f', '-'], { input: hpa });

    // The Deployment's spec.replicas and readyReplicas, timestamped as the watch sees them.
    let onChange: (d: KubeObject) => void = () => undefined;
    informer = new Informer(client, { group: 'apps', version: 'v1', resource: 'deployments', namespace: ns });
    informer.addHandlers({ onAdd: (d) => onChange(d), onUpdate: (d) => onChange(d) });
    await informer.start();
    const when = (pred: (d: KubeObject) => boolean, timeoutMs: number): Promise<number> =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('timed out')), timeoutMs);
        const check = (d: KubeObject) => {
          if (d.metadata.name === 'web' && pred(d)) {
            clearTimeout(t);
            onChange = () => undefined;
            resolve(performance.now());
          }
        };
        onChange = check;
        const cur = informer!.get(`${ns}/web`);
        if (cur) check(cur);
      });
    const results: Array<{ decide: number; ready: number; scaleIn: number; replicas: number }> = [];
    for (let r = 0; r < rounds; r++) {
      await cluster.until('the HPA at rest with a CPU reading', async () => {
        const h = JSON.parse((await cluster.kubectl(['-n', ns, 'get', 'hpa', 'web', '-o', 'json'])).stdout);
        return h.status?.currentReplicas === 1 && h.status?.currentMetrics?.[0]?.resource?.current?.averageUtilization !== undefined;
      });
      const pod = JSON.parse((await cluster.kubectl(['-n', ns, 'get', 'pods', '-l', 'app=web', '-o', 'json'])).stdout).items.find((p: KubeObject) => !p.metadata.deletionTimestamp).metadata.name;
      // The busy loop runs in the exec's shell, inside the pod's container; "go" marks the load start.
      const load = spawn('kubectl', ['-n', ns, 'exec', pod, '--', 'sh', '-c', 'touch /tmp/burn; echo go; while [ -f /tmp/burn ]; do :; done'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      const t0 = await new Promise<number>((resolve) => load.stdout.on('data', (b: Buffer) => b.toString().includes('go') && resolve(performance.now())));
      const decided = await when((d) => (d.spec?.replicas ?? 1) > 1, 120_000);
      const ready = await when((d) => (d.status?.readyReplicas ?? 0) >= (d.spec?.replicas ?? 1) && (d.spec?.replicas ?? 1) > 1, 120_000);
      const replicas = informer.get(`${ns}/web`)!.spec.replicas as number;
      await cluster.kubectl(['-n', ns, 'exec', pod, '--', 'rm', '-f', '/tmp/burn']);
      const t1 = performance.now();
      const scaledIn = await when((d) => d.spec?.replicas === 1, 120_000 + windowSeconds * 1000);
      load.kill();
      results.push({ decide: decided - t0, ready: ready - t0, scaleIn: scaledIn - t1, replicas });
      console.log(`round ${r + 1}: scale-out to ${replicas} decided ${s(decided - t0)} after load start, Ready ${s(ready - t0)}; scale-in decided ${s(scaledIn - t1)} after load end`);
    }
    console.log(`autoscaling reaction, ${rounds} rounds, one node (HPA sync 1 s, metric resolution 1 s, scale-up window 0 s, scale-down window ${windowSeconds} s):`);
    console.log(`  load start -> scale-out decided: median ${s(median(results.map((x) => x.decide)))}, max ${s(Math.max(...results.map((x) => x.decide)))}`);
    console.log(`  load start -> new replicas Ready: median ${s(median(results.map((x) => x.ready)))}, max ${s(Math.max(...results.map((x) => x.ready)))}`);
    console.log(`  load end -> scale-in decided: median ${s(median(results.map((x) => x.scaleIn)))}, max ${s(Math.max(...results.map((x) => x.scaleIn)))} (window ${windowSeconds} s)`);
  } finally {
    informer?.stop();
    await cluster.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { allowFailure: true });
    await cluster.stop();
  }
}

await main();
