// A local-path volume's data on a second node (`tug agent` joined to a
// `tug server`) survives the agent being killed with SIGKILL and restarted,
// stopped with SIGTERM and restarted, and the pod being deleted: a new pod
// with the same claim is scheduled to that node (the PV's node affinity) and
// reads what the first wrote.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startAgentCluster, leftovers, suffix, type AgentCluster } from '../cluster-agent/agent-cluster.js';

let c: AgentCluster | undefined;
after(async () => {
  await c?.stop();
});

const exists = (p: string) => access(p).then(() => true, () => false);

test('local-path data survives agent kill -9, agent restart and the pod, on the node of its volume', async () => {
  c = await startAgentCluster();
  const cl = c;
  const nodeName = `store-${suffix()}`;
  let agent = await cl.startAgent(nodeName);
  const ns = `restart-${suffix()}`;
  await cl.kubectl(['create', 'namespace', ns]);
  const podOf = (name: string, script: string, nodeSelector?: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 0,
      ...(nodeSelector ? { nodeSelector } : {}),
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
      containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', script], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
    },
  });
  const claim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Mi' } } } };
  await cl.kubectl(['apply', '-n', ns, '-f', '-'], { input: [claim, podOf('first', 'echo one > /data/f; sleep 3600', { 'kubernetes.io/hostname': nodeName })].map((o) => stringify(o)).join('---\n') });
  const get = async (kind: string, name: string, inNs = true) => {
    const r = await cl.kubectl(['get', kind, name, ...(inNs ? ['-n', ns] : []), '-o', 'json', '--ignore-not-found']);
    return r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
  };
  const running = async (name: string) => {
    const p = await get('pod', name);
    return p?.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready ? p : undefined;
  };
  const first = await cl.until('first Running', () => running('first'));
  assert.equal(first.spec.nodeName, nodeName);
  const pv = await get('pv', (await get('pvc', 'data')).spec.volumeName, false);
  const dir = pv.spec.hostPath.path;
  assert.equal(dir, join(agent.dataDir, 'storage', `${pv.metadata.name}_${ns}_data`), "the volume lives in the agent's own data dir");
  const exec = async (pod: string, ...cmd: string[]) => (await cl.kubectl(['exec', '-n', ns, pod, '--', ...cmd])).stdout;
  assert.equal(await exec('first', 'cat', '/data/f'), 'one\n');

  for (const how of ['SIGKILL', 'SIGTERM'] as const) {
    if (how === 'SIGKILL') agent.proc.child.kill('SIGKILL');
    await agent.proc.stop();
    assert.match(await readFile(join(dir, 'f'), 'utf8'), /^one\n/, `the data is on the node while its agent is down (${how})`);
    agent = await cl.startAgent(nodeName, { dataDir: agent.dataDir, net: agent.net });
    const again = await cl.until(`first Running after ${how}`, () => running('first'));
    assert.equal(again.status.containerStatuses[0].containerID, first.status.containerStatuses[0].containerID, 'the pod was adopted, not restarted');
    await cl.kubectl(['exec', '-n', ns, 'first', '--', 'sh', '-c', `echo ${how} >> /data/f`]);
  }
  assert.equal(await readFile(join(dir, 'f'), 'utf8'), 'one\nSIGKILL\nSIGTERM\n');

  // The pod goes; a new one with the same claim and no node selector lands on the volume's node and reads it.
  await cl.kubectl(['delete', 'pod', '-n', ns, 'first', '--wait=true']);
  await cl.kubectl(['apply', '-n', ns, '-f', '-'], { input: stringify(podOf('second', 'cat /data/f; sleep 3600')) });
  const second = await cl.until('second Running', () => running('second'));
  assert.equal(second.spec.nodeName, nodeName, 'scheduled to the node of its volume');
  assert.equal(await exec('second', 'cat', '/data/f'), 'one\nSIGKILL\nSIGTERM\n');

  // A pod put on the other node by hand (no scheduler) is not given a volume pinned to this one.
  await cl.kubectl(['apply', '-n', ns, '-f', '-'], { input: stringify({ ...podOf('elsewhere', 'cat /data/f'), spec: { ...podOf('elsewhere', 'cat /data/f').spec, nodeName: cl.nodeName } }) });
  await cl.until('FailedMount on the other node', async () => {
    const ev = (await cl.kubectl(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=elsewhere', '-o', 'jsonpath={.items[*].message}'])).stdout;
    return ev.includes(`MountVolume.SetUp failed for volume "data" : PersistentVolume "${pv.metadata.name}" is pinned to node ${nodeName} (its nodeAffinity), not to ${cl.nodeName}`);
  });
  assert.equal((await get('pod', 'elsewhere')).status.containerStatuses?.[0]?.state?.waiting?.reason, 'ContainerCreating');

  // Deleting the namespace deletes the claim; reclaim Delete: the agent removes the directory, then the PV goes.
  await cl.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s']);
  await cl.until('PV gone', async () => !(await get('pv', pv.metadata.name, false)));
  assert.equal(await exists(dir), false);
  const { dataDir, net } = agent;
  await agent.proc.stop();
  assert.deepEqual(await leftovers(dataDir, net), []);
});
