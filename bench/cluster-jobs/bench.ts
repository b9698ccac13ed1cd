// Job throughput: one Job of N short pods (`true`) with parallelism P runs to
// Complete, timed from its create to the Complete condition; then, in the
// same cluster, N bare pods (restartPolicy Never, the same command) created P
// requests at a time, timed from the first create until all N are Succeeded.
// Both report pods per second; the ratio says what the Job controller's
// pacing costs against pods the node gets all at once.
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { KubeClient, type KubeObject } from '../../src/kube/client/kube-client.js';
import { Informer } from '../../src/kube/client/informer.js';
import { runTool } from '../../src/util/exec-file.js';
import { startE2eCluster, hex } from '../../test/cluster-e2e/e2e-cluster.js';

const { values } = parseArgs({ options: { pods: { type: 'string', default: '1000' }, parallelism: { type: 'string', default: '20' } } });
const total = Number(values.pods);
const parallelism = Number(values.parallelism);
const podSpec = { restartPolicy: 'Never', terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox', command: ['true'] }] };

async function main(): Promise<void> {
  const cluster = await startE2eCluster();
  const ns = `bench-${hex(3)}`;
  const informers: Informer[] = [];
  try {
    const client = await KubeClient.fromKubeconfig(join(cluster.dataDir, 'kubeconfig'));
    await cluster.kubectl(['create', 'namespace', ns]);
    const pods = { group: '', version: 'v1', resource: 'pods', namespace: ns };
    const jobs = { group: 'batch', version: 'v1', resource: 'jobs', namespace: ns };
    const succeeded = new Set<string>();
    let completeAt = 0;
    const podInformer = new Informer(client, pods);
    const seen = (p: KubeObject) => {
      if (p.status?.phase === 'Succeeded' && p.metadata.labels?.bench === 'bare') succeeded.add(p.metadata.name!);
    };
    podInformer.addHandlers({ onAdd: seen, onUpdate: seen });
    const jobInformer = new Informer(client, jobs);
    const jobSeen = (j: KubeObject) => {
      if (!completeAt && (j.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Complete' && c.status === 'True')) completeAt = performance.now();
    };
    jobInformer.addHandlers({ onAdd: jobSeen, onUpdate: jobSeen });
    informers.push(podInformer, jobInformer);
    await Promise.all(informers.map((i) => i.start()));

    // Warm-up: the image is present and the node's network exists before measuring.
    await client.create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'warmup' }, spec: podSpec });
    await cluster.until('warm-up pod Succeeded', async () => podInformer.get(`${ns}/warmup`)?.status?.phase === 'Succeeded', 600);

    const t0 = performance.now();
    await client.create(jobs, { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'many' }, spec: { completions: total, parallelism, backoffLimit: total, template: { spec: podSpec } } });
    await cluster.until('Job Complete', async () => completeAt > 0, 7200);
    const jobSecs = (completeAt - t0) / 1000;

    const t1 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: parallelism }, async () => {
        for (let i = next++; i < total; i = next++) {
          await client.create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `bare-${i}`, labels: { bench: 'bare' } }, spec: podSpec });
        }
      }),
    );
    await cluster.until('bare pods Succeeded', async () => succeeded.size >= total, 7200);
    const bareSecs = (performance.now() - t1) / 1000;

    const rate = (s: number) => (total / s).toFixed(1);
    console.log(`Job throughput, ${total} pods (\`true\`), one node, image present, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(`  one Job, completions ${total}, parallelism ${parallelism}: ${jobSecs.toFixed(1)} s, ${rate(jobSecs)} pods/s`);
    console.log(`  ${total} bare pods, created ${parallelism} at a time: ${bareSecs.toFixed(1)} s, ${rate(bareSecs)} pods/s`);
  } finally {
    for (const i of informers) i.stop();
    const del = await cluster.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=900s'], { allowFailure: true });
    if (del.code !== 0) console.error(`delete namespace ${ns}: ${del.stderr}`);
    await cluster
      .until('node engine empty', async () => (await runTool('docker', ['-H', `unix://${cluster.engineSocket}`, 'ps', '-aq'])).stdout.trim() === '', 1200)
      .catch((err) => console.error(String(err)));
    await cluster.stop();
  }
}

await main();
