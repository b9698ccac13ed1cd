// One exec table per engine: an exec session started through `kubectl exec`
// on a pod is the node engine's own, so the node's Docker API lists it in the
// container's ExecIDs and inspects it (command, exit code), as it would an
// exec started with `docker exec` on that socket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { runTool } from '../../src/util/exec-file.js';
import { startAgentCluster, suffix, type AgentCluster } from './agent-cluster.js';

let c: AgentCluster;
let ns: string;

before(async () => {
  c = await startAgentCluster();
  ns = `execids-${suffix()}`;
  await c.kubectl(['create', 'namespace', ns]);
});

after(async () => {
  if (!c) return;
  await c.kubectl(['-n', ns, 'delete', 'pods', '--all', '--grace-period=1'], { allowFailure: true });
  await c.kubectl(['delete', 'namespace', ns, '--wait=false'], { allowFailure: true });
  await c.stop();
});

const socket = (): string => join(c.dataDir, 'engine.sock');

/** GET on the node's Docker API socket, as JSON. */
function dockerGet(path: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket(), path, method: 'GET' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.once('error', reject);
    req.end();
  });
}

test('an exec started with kubectl exec is listed in the container ExecIDs on the node engine socket', async () => {
  const manifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'sleeper' },
    spec: { nodeName: c.nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] },
  };
  await c.kubectl(['-n', ns, 'apply', '-f', '-'], { input: JSON.stringify(manifest) });
  const pod = await c.until('sleeper Running', async () => {
    const p = JSON.parse((await c.kubectl(['-n', ns, 'get', 'pod', 'sleeper', '-o', 'json'])).stdout);
    return p.status?.containerStatuses?.[0]?.state?.running ? p : undefined;
  });
  const id: string = pod.status.containerStatuses[0].containerID.replace('tug://', '');

  const before = await dockerGet(`/containers/${id}/json`);
  assert.equal(before.status, 200);
  assert.equal(before.body.ExecIDs, null, 'no exec yet');

  const ex = await c.kubectl(['-n', ns, 'exec', 'sleeper', '--', 'sh', '-c', 'echo from-kubectl; exit 7'], { allowFailure: true });
  assert.equal(ex.code, 7);
  assert.equal(ex.stdout, 'from-kubectl\n');

  const after = await dockerGet(`/containers/${id}/json`);
  assert.ok(Array.isArray(after.body.ExecIDs), `ExecIDs: ${JSON.stringify(after.body.ExecIDs)}`);
  assert.equal(after.body.ExecIDs.length, 1);
  const exec = await dockerGet(`/exec/${after.body.ExecIDs[0]}/json`);
  assert.equal(exec.status, 200);
  assert.equal(exec.body.ContainerID, id);
  assert.equal(exec.body.ProcessConfig.entrypoint, 'sh');
  assert.deepEqual(exec.body.ProcessConfig.arguments, ['-c', 'echo from-kubectl; exit 7']);
  assert.equal(exec.body.Running, false);
  assert.equal(exec.body.ExitCode, 7);

  // The docker CLI on the node's socket sees the same container and its exec too.
  const cli = await runTool('docker', ['-H', `unix://${socket()}`, 'inspect', '-f', '{{len .ExecIDs}}', id]);
  assert.equal(cli.stdout.trim(), '1');
});
