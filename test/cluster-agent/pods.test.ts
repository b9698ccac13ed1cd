// Pods run by the embedded node agent of a real `tug server`, driven with
// kubectl: status, logs, exec, restarts and back-off, init containers and
// volumes, probes, graceful deletion, and nothing left behind at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from '../../src/util/exec-file.js';
import { startAgentCluster, leftovers, suffix, podSandboxesOf, pinMounts, type AgentCluster } from './agent-cluster.js';

let c: AgentCluster;
let ns: string;
let hostDir: string;

before(async () => {
  c = await startAgentCluster();
  ns = `agent-${suffix()}`;
  hostDir = await mkdtemp(join(tmpdir(), 'tug-agent-host-'));
  await c.kubectl(['create', 'namespace', ns]);
});

after(async () => {
  if (!c) return;
  await c.kubectl(['delete', 'namespace', ns, '--wait=false'], { allowFailure: true });
  await c.kubectl(['-n', ns, 'delete', 'pods', '--all', '--grace-period=1'], { allowFailure: true });
  await c.stop();
  await rm(hostDir, { recursive: true, force: true });
});

async function getPod(name: string): Promise<any> {
  return JSON.parse((await c.kubectl(['-n', ns, 'get', 'pod', name, '-o', 'json'])).stdout);
}

async function apply(manifest: object): Promise<void> {
  await c.kubectl(['-n', ns, 'apply', '-f', '-'], { input: JSON.stringify(manifest) });
}

function pod(name: string, spec: object): object {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: c.nodeName, terminationGracePeriodSeconds: 1, ...spec } };
}

async function waitRunning(name: string): Promise<any> {
  return c.until(`${name} Running`, async () => {
    const p = await getPod(name);
    return p.status?.phase === 'Running' && p.status.containerStatuses?.every((s: any) => s.state.running) ? p : undefined;
  });
}

test('a pod runs with a pod IP, its Node is Ready, kubectl logs (--tail, -f) and exec (exit code, stdin) work', async () => {
  const node = JSON.parse((await c.kubectl(['get', 'node', c.nodeName, '-o', 'json'])).stdout);
  assert.equal(node.status.conditions.find((x: any) => x.type === 'Ready').status, 'True');
  assert.ok(Number(node.status.capacity.cpu) >= 1);
  assert.match(node.status.allocatable.memory, /^\d+Ki$/);
  const lease = JSON.parse((await c.kubectl(['-n', 'kube-node-lease', 'get', 'lease', c.nodeName, '-o', 'json'])).stdout);
  assert.equal(lease.spec.holderIdentity, c.nodeName);

  await apply(pod('web', { containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo first; i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.2; done'] }] }));
  const p = await waitRunning('web');
  const prefix = c.net.cidr.split('.').slice(0, 3).join('.') + '.';
  assert.ok(p.status.podIP.startsWith(prefix), `pod IP ${p.status.podIP} in ${c.net.cidr}`);
  assert.equal(p.status.conditions.find((x: any) => x.type === 'Ready').status, 'True');
  assert.equal(p.status.qosClass, 'BestEffort');
  assert.match(p.status.containerStatuses[0].containerID, /^tug:\/\/[0-9a-f]{64}$/);

  const all = await c.until('a few log lines', async () => {
    const out = (await c.kubectl(['-n', ns, 'logs', 'web'])).stdout;
    return out.split('\n').length > 5 ? out : undefined;
  });
  assert.match(all, /^first\ntick 0\n/);
  const tail = (await c.kubectl(['-n', ns, 'logs', 'web', '--tail', '2'])).stdout.trim().split('\n');
  assert.equal(tail.length, 2, JSON.stringify(tail));
  assert.match(tail[1], /^tick \d+$/);

  // -f keeps streaming: lines written after the command started arrive.
  const follow = spawn('kubectl', ['-n', ns, 'logs', '-f', 'web', '--tail', '1'], { env: c.kubectlEnv });
  const seen = await new Promise<string[]>((resolve, reject) => {
    let buf = '';
    follow.stdout.on('data', (b: Buffer) => {
      buf += b.toString();
      const ticks = buf.split('\n').filter((l) => l.startsWith('tick'));
      if (ticks.length >= 4) resolve(ticks);
    });
    follow.once('exit', (code) => reject(new Error(`kubectl logs -f exited ${code}: ${buf}`)));
  });
  follow.kill();
  const nums = seen.map((l) => Number(l.split(' ')[1]));
  assert.ok(nums[3] > nums[0], `increasing ticks ${nums}`);

  const ex = await c.kubectl(['-n', ns, 'exec', 'web', '--', 'sh', '-c', 'echo hi; echo oops >&2; exit 3'], { allowFailure: true });
  assert.equal(ex.code, 3);
  assert.equal(ex.stdout, 'hi\n');
  assert.match(ex.stderr, /oops/);
  const cat = await c.kubectl(['-n', ns, 'exec', '-i', 'web', '--', 'sh', '-c', 'tr a-z A-Z'], { input: 'from stdin\n' });
  assert.equal(cat.stdout, 'FROM STDIN\n');
  // Every container of the pod shares the sandbox's network namespace: eth0 carries the pod IP.
  const addr = (await c.kubectl(['-n', ns, 'exec', 'web', '--', 'ip', '-4', 'addr', 'show', 'eth0'])).stdout;
  assert.ok(addr.includes(p.status.podIP), addr);
});

test('a killed container restarts, restartCount rises and logs --previous shows the old run', async () => {
  await apply(pod('restarter', { containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', 'echo run-$(cat /proc/sys/kernel/random/uuid); sleep 3600'] }] }));
  const p = await waitRunning('restarter');
  const id = p.status.containerStatuses[0].containerID.replace('tug://', '');
  const firstLog = (await c.kubectl(['-n', ns, 'logs', 'restarter'])).stdout;
  // Kill it behind the agent's back, through the node's own engine socket.
  await runTool('docker', ['-H', `unix://${join(c.dataDir, 'engine.sock')}`, 'kill', id]);
  const after = await c.until('restartCount 1 and running', async () => {
    const q = await getPod('restarter');
    const s = q.status.containerStatuses[0];
    return s.restartCount === 1 && s.state.running ? q : undefined;
  });
  const s = after.status.containerStatuses[0];
  assert.notEqual(s.containerID, p.status.containerStatuses[0].containerID);
  assert.equal(s.lastState.terminated.exitCode, 137);
  const prev = (await c.kubectl(['-n', ns, 'logs', 'restarter', '--previous'])).stdout;
  assert.equal(prev, firstLog);
  const now = (await c.kubectl(['-n', ns, 'logs', 'restarter'])).stdout;
  assert.notEqual(now, firstLog);
});

test('a crashing container goes into CrashLoopBackOff; restartPolicy Never leaves the pod Failed', async () => {
  await apply(pod('crasher', { containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo boom; exit 2'] }] }));
  const p = await c.until('CrashLoopBackOff', async () => {
    const q = await getPod('crasher');
    return q.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff' ? q : undefined;
  });
  const s = p.status.containerStatuses[0];
  assert.ok(s.restartCount >= 1);
  assert.equal(s.lastState.terminated.exitCode, 2);
  assert.equal(s.lastState.terminated.reason, 'Error');
  assert.match(s.state.waiting.message, /back-off 10s restarting failed container=c/);
  assert.equal(p.status.conditions.find((x: any) => x.type === 'Ready').status, 'False');

  await apply(pod('once', { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'exit 4'] }] }));
  const f = await c.until('Failed', async () => {
    const q = await getPod('once');
    return q.status?.phase === 'Failed' ? q : undefined;
  });
  assert.equal(f.status.containerStatuses[0].state.terminated.exitCode, 4);
  assert.equal(f.status.containerStatuses[0].restartCount, 0);
  // A finished pod's sandbox is stopped too (its address goes back to the pool, its namespaces unpinned); nothing of it runs.
  const containersDir = join(c.dataDir, 'engine', 'containers');
  await c.until('no running container of the finished pod', async () => {
    const recs = await Promise.all((await readdir(containersDir)).map((id) => readFile(join(containersDir, id, 'container.json'), 'utf8').then(JSON.parse, () => null)));
    const mine = recs.filter((r) => r?.Config?.Labels?.['io.kubernetes.pod.uid'] === f.metadata.uid);
    return mine.length === 1 && mine.every((r) => !r.State.Running);
  });
  const sandboxes = await c.until('the finished pod\'s sandbox stopped', async () => {
    const s = await podSandboxesOf(c.dataDir, f.metadata.uid);
    return s.length === 1 && s[0].state === 'stopped' ? s : undefined;
  });
  assert.deepEqual(await pinMounts(sandboxes[0].dir), [], 'no namespace of the finished pod stays pinned');
  assert.equal((await getPod('once')).status.phase, 'Failed');
});

test('init containers run in order and share an emptyDir; configMap/secret volumes and env reach the app, and volume files follow changes', async () => {
  await c.kubectl(['-n', ns, 'create', 'configmap', 'cfg', '--from-literal=greeting=hello-cm', '--from-literal=color=blue']);
  await c.kubectl(['-n', ns, 'create', 'secret', 'generic', 'sec', '--from-literal=password=s3cret']);
  await apply(
    pod('initpod', {
      initContainers: [
        { name: 'one', image: 'busybox', command: ['sh', '-c', 'echo one >> /work/order'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
        { name: 'two', image: 'busybox', command: ['sh', '-c', 'echo two >> /work/order'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
      ],
      containers: [
        {
          name: 'app',
          image: 'busybox',
          command: ['sleep', '3600'],
          env: [
            { name: 'GREET', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'greeting' } } },
            { name: 'PASS', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
            { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
            { name: 'COMBO', value: '$(GREET)-$(POD)' },
          ],
          envFrom: [{ prefix: 'CM_', configMapRef: { name: 'cfg' } }],
          resources: { limits: { memory: '64Mi', cpu: '500m' } },
          volumeMounts: [
            { name: 'work', mountPath: '/work' },
            { name: 'cfg', mountPath: '/etc/cfg', readOnly: true },
            { name: 'sec', mountPath: '/etc/sec', readOnly: true },
            { name: 'info', mountPath: '/etc/info' },
          ],
        },
      ],
      volumes: [
        { name: 'work', emptyDir: {} },
        { name: 'cfg', configMap: { name: 'cfg' } },
        { name: 'sec', secret: { secretName: 'sec' } },
        { name: 'info', downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
      ],
    }),
  );
  const p = await waitRunning('initpod');
  assert.deepEqual(
    p.status.initContainerStatuses.map((s: any) => [s.name, s.state.terminated?.exitCode]),
    [
      ['one', 0],
      ['two', 0],
    ],
  );
  assert.equal(p.status.conditions.find((x: any) => x.type === 'Initialized').status, 'True');
  assert.equal(p.status.qosClass, 'Burstable');
  const exec = async (cmd: string) => (await c.kubectl(['-n', ns, 'exec', 'initpod', '-c', 'app', '--', 'sh', '-c', cmd])).stdout;
  assert.equal(await exec('cat /work/order'), 'one\ntwo\n');
  assert.equal(await exec('cat /etc/cfg/greeting; echo; cat /etc/sec/password; echo; cat /etc/info/name'), 'hello-cm\ns3cret\ninitpod');
  assert.equal(await exec('echo $GREET $PASS $POD $MEM $COMBO $CM_color'), 'hello-cm s3cret initpod 64 hello-cm-initpod blue\n');
  // Resources became the engine's cgroup limits: limits.memory, limits.cpu as CPUs, requests.cpu (= limits) as shares.
  const appId = p.status.containerStatuses[0].containerID.replace('tug://', '');
  const hc = (await runTool('docker', ['-H', `unix://${join(c.dataDir, 'engine.sock')}`, 'inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}}', appId])).stdout.trim();
  assert.equal(hc, `${64 * 1024 * 1024} 500000000 512`);
  // An image HEALTHCHECK is not a pod's business (probes come from the spec): the engine runs none for pods.
  const health = (await runTool('docker', ['-H', `unix://${join(c.dataDir, 'engine.sock')}`, 'inspect', '-f', '{{json .Config.Healthcheck}} {{json .State.Health}}', appId])).stdout.trim();
  assert.equal(health, '{"Test":["NONE"]} null');
  // cgroup v2 (memory.max) or v1 (memory/…/memory.limit_in_bytes), under the engine's tug-<hash> parent.
  const candidates: string[] = [];
  for (const [base, file] of [['/sys/fs/cgroup', 'memory.max'], ['/sys/fs/cgroup/memory', 'memory.limit_in_bytes']]) {
    for (const d of (await readdir(base).catch(() => [] as string[])).filter((x) => x.startsWith('tug-'))) candidates.push(`${base}/${d}/${appId}/${file}`);
  }
  const limits = await Promise.all(candidates.map((f) => readFile(f, 'utf8').catch(() => '')));
  assert.deepEqual(limits.filter(Boolean).map((x) => x.trim()), [String(64 * 1024 * 1024)]);
  // A read-only mount refuses writes.
  const ro = await c.kubectl(['-n', ns, 'exec', 'initpod', '-c', 'app', '--', 'sh', '-c', 'echo x > /etc/cfg/new'], { allowFailure: true });
  assert.notEqual(ro.code, 0);
  await c.kubectl(['-n', ns, 'patch', 'configmap', 'cfg', '-p', '{"data":{"greeting":"changed"}}']);
  await c.until('configMap change in the volume', async () => (await exec('cat /etc/cfg/greeting')) === 'changed');
});

test('a failing liveness probe restarts the container; a failing readiness probe keeps Ready False', async () => {
  await apply(
    pod('probed', {
      containers: [
        {
          name: 'live',
          image: 'busybox',
          command: ['sh', '-c', 'touch /tmp/healthy; sleep 3600'],
          livenessProbe: { exec: { command: ['test', '-f', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 2 },
        },
        {
          name: 'web',
          image: 'busybox',
          command: ['sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && httpd -f -p 8080 -h /www'],
          readinessProbe: { httpGet: { path: '/index.html', port: 8080 }, periodSeconds: 1 },
        },
        { name: 'never', image: 'busybox', command: ['sleep', '3600'], readinessProbe: { tcpSocket: { port: 9999 }, periodSeconds: 1 } },
      ],
    }),
  );
  await waitRunning('probed');
  // The pod's containers share the sandbox's network and IPC namespaces (and not the host's).
  const nsOf = async (container: string) => (await c.kubectl(['-n', ns, 'exec', 'probed', '-c', container, '--', 'sh', '-c', 'for n in net ipc pid uts; do readlink /proc/self/ns/$n; done'])).stdout.split('\n');
  const [a, b] = [await nsOf('live'), await nsOf('never')];
  assert.equal(a[0], b[0], 'same network namespace');
  assert.equal(a[1], b[1], 'same IPC namespace');
  assert.notEqual(a[2], b[2], 'own PID namespaces');
  assert.equal(a[3], b[3], 'same UTS namespace');
  assert.notEqual(a[0], await readlink('/proc/self/ns/net'));
  const ready = await c.until('web ready', async () => {
    const q = await getPod('probed');
    return q.status.containerStatuses.find((s: any) => s.name === 'web').ready ? q : undefined;
  });
  const byName = (q: any, n: string) => q.status.containerStatuses.find((s: any) => s.name === n);
  assert.equal(byName(ready, 'never').ready, false);
  assert.equal(byName(ready, 'live').ready, true);
  assert.equal(ready.status.conditions.find((x: any) => x.type === 'Ready').status, 'False');
  assert.equal(ready.status.conditions.find((x: any) => x.type === 'ContainersReady').status, 'False');

  await c.kubectl(['-n', ns, 'exec', 'probed', '-c', 'live', '--', 'rm', '/tmp/healthy']);
  const restarted = await c.until('liveness restart', async () => {
    const q = await getPod('probed');
    const s = byName(q, 'live');
    return s.restartCount >= 1 && s.state.running ? q : undefined;
  });
  assert.equal(byName(restarted, 'never').restartCount, 0);
  assert.equal(restarted.status.conditions.find((x: any) => x.type === 'Ready').status, 'False');
});

test('seccomp as the kubelet does it: unconfined unless the pod or container asks for RuntimeDefault (Docker\'s profile)', async () => {
  await apply(
    pod('seccomp', {
      containers: [
        { name: 'plain', image: 'busybox', command: ['sleep', '3600'] },
        { name: 'confined', image: 'busybox', command: ['sleep', '3600'], securityContext: { seccompProfile: { type: 'RuntimeDefault' } } },
      ],
    }),
  );
  await waitRunning('seccomp');
  // /proc/self/status "Seccomp:" is 0 without a filter, 2 in filter mode.
  const mode = async (container: string) => (await c.kubectl(['-n', ns, 'exec', 'seccomp', '-c', container, '--', 'grep', '^Seccomp:', '/proc/self/status'])).stdout.split(/\s+/)[1];
  assert.equal(await mode('plain'), '0');
  assert.equal(await mode('confined'), '2');
  // RuntimeDefault is Docker's default profile: no new user namespace without CAP_SYS_ADMIN.
  const unshareUser = async (container: string) => (await c.kubectl(['-n', ns, 'exec', 'seccomp', '-c', container, '--', 'sh', '-c', 'unshare -Ur true 2>&1; echo rc=$?'])).stdout;
  assert.match(await unshareUser('confined'), /Operation not permitted\s+rc=1\s*$/);
  assert.match(await unshareUser('plain'), /^rc=0\s*$/);
  await c.kubectl(['-n', ns, 'delete', 'pod', 'seccomp', '--wait=false']);
});

test('graceful delete runs preStop, sends the stop signal, and the pod disappears with its containers', async () => {
  await apply(
    pod('graceful', {
      terminationGracePeriodSeconds: 20,
      containers: [
        {
          name: 'main',
          image: 'busybox',
          command: ['sh', '-c', "trap 'cat /host/prestop > /host/term-after-prestop; exit 0' TERM; while :; do sleep 0.2; done"],
          lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo prestop-ran > /host/prestop'] } } },
          volumeMounts: [{ name: 'host', mountPath: '/host' }],
        },
      ],
      volumes: [{ name: 'host', hostPath: { path: hostDir } }],
    }),
  );
  const p = await waitRunning('graceful');
  const id = p.status.containerStatuses[0].containerID.replace('tug://', '');
  await c.kubectl(['-n', ns, 'delete', 'pod', 'graceful', '--wait=true']);
  assert.equal(await readFile(join(hostDir, 'prestop'), 'utf8'), 'prestop-ran\n');
  // The TERM handler saw preStop's file: preStop ran first.
  assert.equal(await readFile(join(hostDir, 'term-after-prestop'), 'utf8'), 'prestop-ran\n');
  const gone = await c.kubectl(['-n', ns, 'get', 'pod', 'graceful'], { allowFailure: true });
  assert.match(gone.stderr, /NotFound/);
  const inspect = await runTool('docker', ['-H', `unix://${join(c.dataDir, 'engine.sock')}`, 'inspect', id], { allowFailure: true });
  assert.match(inspect.stderr, /No such (container|object)/);
});

test('after every pod is deleted and the server stops, no container, mount, veth, bridge or iptables rule is left', async () => {
  await c.kubectl(['-n', ns, 'delete', 'pods', '--all', '--grace-period=1', '--wait=true']);
  const left = await c.until('no containers in the node engine', async () => {
    const ids = await readdir(join(c.dataDir, 'engine', 'containers')).catch(() => []);
    return ids.length === 0 ? 'empty' : undefined;
  });
  assert.equal(left, 'empty');
  const net = c.net;
  const dataDir = c.dataDir;
  await c.server.stop();
  assert.deepEqual(await leftovers(dataDir, net), []);
});
