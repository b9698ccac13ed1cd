// The pod-spec parts of the orchestrator issue that pods.test.ts does not
// reach, on one real `tug server` with its embedded agent, driven with kubectl:
// securityContext (runAsUser/Group, runAsNonRoot, readOnlyRootFilesystem,
// capabilities), projected and downwardAPI volumes following their sources,
// startup and tcpSocket probes, terminationGracePeriodSeconds then SIGKILL,
// restartPolicy OnFailure, logs -c, exec -it, scheduler-set status fields, and
// imagePullPolicy with real pulls from a loopback registry through the engine.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { runTool } from '../../src/util/exec-file.js';
import { startAgentCluster, leftovers, suffix, type AgentCluster } from './agent-cluster.js';
import { startTestRegistry, type TestRegistry } from '../registry/helpers.js';

let c: AgentCluster;
let ns: string;

before(async () => {
  c = await startAgentCluster();
  ns = `cover-${suffix()}`;
  await c.kubectl(['create', 'namespace', ns]);
});

after(async () => {
  if (!c) return;
  await c.kubectl(['-n', ns, 'delete', 'pods', '--all', '--grace-period=1'], { allowFailure: true });
  await c.kubectl(['delete', 'namespace', ns, '--wait=false'], { allowFailure: true });
  await c.stop();
});

async function getPod(name: string): Promise<any> {
  return JSON.parse((await c.kubectl(['-n', ns, 'get', 'pod', name, '-o', 'json'])).stdout);
}

async function apply(manifest: object): Promise<void> {
  await c.kubectl(['-n', ns, 'apply', '-f', '-'], { input: JSON.stringify(manifest) });
}

function pod(name: string, spec: object, labels?: Record<string, string>): object {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { nodeName: c.nodeName, terminationGracePeriodSeconds: 1, ...spec } };
}

const statusOf = (p: any, n: string): any => p.status?.containerStatuses?.find((s: any) => s.name === n);

async function waitRunning(name: string): Promise<any> {
  return c.until(`${name} Running`, async () => {
    const p = await getPod(name);
    return p.status?.phase === 'Running' && p.status.containerStatuses?.every((s: any) => s.state.running) ? p : undefined;
  });
}

async function waitWaiting(name: string, container: string, reasons: RegExp): Promise<any> {
  return c.until(`${name}/${container} waiting ${reasons}`, async () => {
    const s = statusOf(await getPod(name), container);
    return s?.state?.waiting && reasons.test(s.state.waiting.reason) ? s.state.waiting : undefined;
  });
}

const exec = async (name: string, container: string, cmd: string): Promise<string> => (await c.kubectl(['-n', ns, 'exec', name, '-c', container, '--', 'sh', '-c', cmd])).stdout;

/** Effective capability set of the container's shell, as a bigint. */
const capEff = async (name: string, container: string): Promise<bigint> => BigInt('0x' + (await exec(name, container, "grep CapEff /proc/self/status | cut -f2")).trim());
const CAP_CHOWN = 1n << 0n;
const CAP_NET_ADMIN = 1n << 12n;

test('securityContext: runAsUser/runAsGroup, readOnlyRootFilesystem and capabilities apply; runAsNonRoot refuses a root image and accepts a non-root user', async () => {
  const loop = ['sh', '-c', 'while :; do sleep 1; done'];
  await apply(
    pod('sec', {
      containers: [
        {
          name: 'user',
          image: 'busybox',
          command: loop,
          securityContext: { runAsUser: 1234, runAsGroup: 2345, runAsNonRoot: true, readOnlyRootFilesystem: true },
          volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
        },
        { name: 'plain', image: 'busybox', command: loop },
        { name: 'caps', image: 'busybox', command: loop, securityContext: { capabilities: { add: ['NET_ADMIN'], drop: ['CHOWN'] } } },
      ],
      volumes: [{ name: 'scratch', emptyDir: {} }],
    }),
  );
  await waitRunning('sec');
  assert.equal(await exec('sec', 'user', 'id -u; id -g'), '1234\n2345\n');
  const ro = await c.kubectl(['-n', ns, 'exec', 'sec', '-c', 'user', '--', 'touch', '/rootfs-file'], { allowFailure: true });
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /Read-only file system/);
  // The read-only root leaves volumes writable.
  assert.equal(await exec('sec', 'user', 'echo w > /scratch/f && cat /scratch/f'), 'w\n');
  // A container without a securityContext has a writable root.
  assert.equal(await exec('sec', 'plain', 'echo w > /rootfs-file && cat /rootfs-file'), 'w\n');

  const plain = await capEff('sec', 'plain');
  const caps = await capEff('sec', 'caps');
  assert.equal(plain & CAP_NET_ADMIN, 0n, 'NET_ADMIN is not a default capability');
  assert.equal(plain & CAP_CHOWN, CAP_CHOWN, 'CHOWN is a default capability');
  assert.equal(caps & CAP_NET_ADMIN, CAP_NET_ADMIN, 'capabilities.add NET_ADMIN');
  assert.equal(caps & CAP_CHOWN, 0n, 'capabilities.drop CHOWN');

  // busybox runs as root: runAsNonRoot without runAsUser is refused, as the kubelet does.
  await apply(pod('rootrefused', { securityContext: { runAsNonRoot: true }, containers: [{ name: 'c', image: 'busybox', command: loop }] }));
  const w = await waitWaiting('rootrefused', 'c', /^CreateContainerConfigError$/);
  assert.match(w.message, /runAsNonRoot and image will run as root/);
  const p = await getPod('rootrefused');
  assert.equal(p.status.phase, 'Pending');
  assert.equal(statusOf(p, 'c').restartCount, 0);
});

test('projected volume (configMap, secret, downwardAPI) and downwardAPI volumes follow label, annotation and source changes', async () => {
  await c.kubectl(['-n', ns, 'create', 'configmap', 'pcm', '--from-literal=color=blue', '--from-literal=unused=x']);
  await c.kubectl(['-n', ns, 'create', 'secret', 'generic', 'psec', '--from-literal=token=t0k3n']);
  await apply({
    ...(pod(
      'dw',
      {
        containers: [
          {
            name: 'c',
            image: 'busybox',
            command: ['sleep', '3600'],
            resources: { limits: { memory: '32Mi' } },
            volumeMounts: [
              { name: 'all', mountPath: '/etc/all', readOnly: true },
              { name: 'info', mountPath: '/etc/info' },
            ],
          },
        ],
        volumes: [
          {
            name: 'all',
            projected: {
              sources: [
                { configMap: { name: 'pcm', items: [{ key: 'color', path: 'cm/color' }] } },
                { secret: { name: 'psec', items: [{ key: 'token', path: 'sec/token' }] } },
                { downwardAPI: { items: [{ path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
              ],
            },
          },
          {
            name: 'info',
            downwardAPI: {
              items: [
                { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
                { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
                { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } },
              ],
            },
          },
        ],
      },
      { tier: 'one', app: 'dw' },
    ) as any),
  });
  await waitRunning('dw');
  assert.equal(await exec('dw', 'c', 'cat /etc/all/cm/color; echo; cat /etc/all/sec/token; echo; cat /etc/all/ns; echo; ls /etc/all'), `blue\nt0k3n\n${ns}\ncm\nns\nsec\n`);
  assert.equal(await exec('dw', 'c', 'cat /etc/info/labels; echo; cat /etc/info/mem'), 'app="dw"\ntier="one"\n32');

  await c.kubectl(['-n', ns, 'label', 'pod', 'dw', 'tier=two', '--overwrite']);
  await c.kubectl(['-n', ns, 'annotate', 'pod', 'dw', 'note=hello']);
  await c.until('labels file updated', async () => (await exec('dw', 'c', 'cat /etc/info/labels')) === 'app="dw"\ntier="two"');
  await c.until('annotations file updated', async () => /^note="hello"$/m.test(await exec('dw', 'c', 'cat /etc/info/annotations')));
  await c.kubectl(['-n', ns, 'patch', 'configmap', 'pcm', '-p', '{"data":{"color":"red"}}']);
  await c.kubectl(['-n', ns, 'patch', 'secret', 'psec', '-p', JSON.stringify({ data: { token: Buffer.from('n3w').toString('base64') } })]);
  await c.until('projected configMap and secret updated', async () => (await exec('dw', 'c', 'cat /etc/all/cm/color; echo; cat /etc/all/sec/token')) === 'red\nn3w');
});

test('a projected serviceAccountToken (the kube-api-access shape) gives the pod a token that authenticates as its ServiceAccount, next to the cluster CA', async () => {
  await c.kubectl(['-n', ns, 'create', 'serviceaccount', 'robot']);
  await apply(
    pod('sa', {
      serviceAccountName: 'robot',
      containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], volumeMounts: [{ name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }] }],
      volumes: [
        {
          name: 'kube-api-access',
          projected: {
            sources: [
              { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
            ],
          },
        },
      ],
    }),
  );
  await waitRunning('sa');
  const dir = '/var/run/secrets/kubernetes.io/serviceaccount';
  const token = await exec('sa', 'c', `cat ${dir}/token`);
  assert.equal(await exec('sa', 'c', `cat ${dir}/namespace`), ns);
  assert.equal(await exec('sa', 'c', `cat ${dir}/ca.crt`), await readFile(join(c.dataDir, 'pki', 'ca.crt'), 'utf8'));
  const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } };
  // The raw API path, as an in-cluster client would call it (kubectl create -f is covered in kubectl-list-manifests).
  const out = JSON.parse((await c.kubectl(['create', '--raw', '/apis/authentication.k8s.io/v1/tokenreviews', '-f', '-'], { input: JSON.stringify(review) })).stdout);
  assert.equal(out.status.authenticated, true);
  assert.equal(out.status.user.username, `system:serviceaccount:${ns}:robot`);
  // A later sync reuses the token rather than minting one each time.
  await c.kubectl(['-n', ns, 'label', 'pod', 'sa', 'resync=1']);
  await c.until('a sync after the label change', async () => (await getPod('sa')).metadata.labels?.resync === '1');
  assert.equal(await exec('sa', 'c', `cat ${dir}/token`), token);
});

test('command and args (with $(VAR) expansion), args alone replacing the image CMD, envFrom secretRef and fieldRef status fields', async () => {
  await c.kubectl(['-n', ns, 'create', 'secret', 'generic', 'envsec', '--from-literal=USER_PW=pw1']);
  await apply(
    pod('cmdargs', {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'both',
          image: 'busybox',
          command: ['sh', '-c'],
          args: ['echo "$0|$1|$USER_PW|$MY_IP|$MY_NODE|$HOST_IP"', '$(GREETING)', '$$(GREETING)'],
          env: [
            { name: 'GREETING', value: 'hey' },
            { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'MY_NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
          ],
          envFrom: [{ secretRef: { name: 'envsec' } }],
        },
        // busybox has no ENTRYPOINT and CMD `sh`: args alone replace the CMD (and keep the, here empty, ENTRYPOINT).
        { name: 'argsonly', image: 'busybox', args: ['echo', 'only-args'] },
      ],
    }),
  );
  const p = await c.until('cmdargs finished', async () => {
    const q = await getPod('cmdargs');
    return q.status?.phase === 'Succeeded' || q.status?.phase === 'Failed' ? q : undefined;
  });
  assert.equal(p.status.phase, 'Succeeded');
  const logs = (await c.kubectl(['-n', ns, 'logs', 'cmdargs', '-c', 'both'])).stdout;
  assert.equal(logs, `hey|$(GREETING)|pw1|${p.status.podIP}|${c.nodeName}|${p.status.hostIP}\n`);
  assert.equal((await c.kubectl(['-n', ns, 'logs', 'cmdargs', '-c', 'argsonly'])).stdout, 'only-args\n');
});

test('a startup probe holds readiness until it passes; a tcpSocket readiness probe then passes; a failing startup probe restarts the container', async () => {
  await apply(
    pod('startup', {
      containers: [
        {
          name: 'slow',
          image: 'busybox',
          command: ['sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8081 -h /www'],
          startupProbe: { exec: { command: ['test', '-f', '/tmp/up'] }, periodSeconds: 1, failureThreshold: 100000 },
          readinessProbe: { tcpSocket: { port: 8081 }, periodSeconds: 1 },
        },
        { name: 'neverup', image: 'busybox', command: ['sleep', '3600'], startupProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 2 } },
      ],
    }),
  );
  await c.until('slow running', async () => statusOf(await getPod('startup'), 'slow')?.state?.running);
  // Until /tmp/up exists the port is open but the container is neither started nor ready.
  for (let i = 0; i < 6; i++) {
    const s = statusOf(await getPod('startup'), 'slow');
    assert.equal(s.started, false, `started before the startup probe passed (poll ${i})`);
    assert.equal(s.ready, false, `ready before the startup probe passed (poll ${i})`);
    await new Promise((r) => setTimeout(r, 500));
  }
  // The port is really open: readiness would have passed had it been probed.
  assert.equal(await exec('startup', 'slow', 'wget -q -O - http://127.0.0.1:8081/index.html'), 'ok\n');
  await c.kubectl(['-n', ns, 'exec', 'startup', '-c', 'slow', '--', 'touch', '/tmp/up']);
  const ready = await c.until('slow started and ready', async () => {
    const s = statusOf(await getPod('startup'), 'slow');
    return s.started && s.ready ? s : undefined;
  });
  assert.equal(ready.restartCount, 0);

  const failed = await c.until('neverup restarted by its startup probe', async () => {
    const s = statusOf(await getPod('startup'), 'neverup');
    return s.restartCount >= 1 ? s : undefined;
  });
  assert.equal(failed.started, false);
  assert.ok(failed.lastState.terminated, 'lastState holds the killed run');
});

test('a liveness restart of a container ignoring SIGTERM ends it with SIGKILL after terminationGracePeriodSeconds (exit 137); deleting such a pod still completes', async () => {
  await apply(
    pod('stubborn', {
      terminationGracePeriodSeconds: 2,
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: ['sh', '-c', "trap '' TERM; touch /tmp/ok; while :; do sleep 1; done"],
          livenessProbe: { exec: { command: ['test', '-f', '/tmp/ok'] }, periodSeconds: 1, failureThreshold: 1 },
        },
      ],
    }),
  );
  await waitRunning('stubborn');
  await c.kubectl(['-n', ns, 'exec', 'stubborn', '-c', 'c', '--', 'rm', '/tmp/ok']);
  const s = await c.until('liveness restart', async () => {
    const x = statusOf(await getPod('stubborn'), 'c');
    return x.restartCount >= 1 && x.lastState?.terminated ? x : undefined;
  });
  assert.equal(s.lastState.terminated.exitCode, 137, 'killed by SIGKILL, not stopped by SIGTERM');
  await c.kubectl(['-n', ns, 'delete', 'pod', 'stubborn', '--wait=true']);
  assert.match((await c.kubectl(['-n', ns, 'get', 'pod', 'stubborn'], { allowFailure: true })).stderr, /NotFound/);
});

test('probe timings: initialDelaySeconds holds a failing liveness probe back; timeoutSeconds fails a probe that answers too late', async () => {
  const loop = ['sh', '-c', 'while :; do sleep 1; done'];
  await apply(
    pod('timings', {
      containers: [
        { name: 'delayed', image: 'busybox', command: loop, livenessProbe: { exec: { command: ['false'] }, initialDelaySeconds: 3600, periodSeconds: 1, failureThreshold: 1 } },
        { name: 'late', image: 'busybox', command: loop, livenessProbe: { exec: { command: ['sleep', '5'] }, timeoutSeconds: 1, periodSeconds: 1, failureThreshold: 1 } },
      ],
    }),
  );
  // Ordering, not a clock: by the time 'late' has been restarted twice, an undelayed 'delayed' would have been too.
  const p = await c.until('late restarted twice', async () => {
    const q = await getPod('timings');
    return statusOf(q, 'late')?.restartCount >= 2 ? q : undefined;
  });
  assert.equal(statusOf(p, 'delayed').restartCount, 0);
  assert.ok(statusOf(p, 'delayed').state.running);
});

test('restartPolicy OnFailure: exit 0 completes the pod as Succeeded; a failing container is restarted', async () => {
  await apply(pod('onfail-ok', { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo done'] }] }));
  await apply(pod('onfail-bad', { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'exit 5'] }] }));
  const ok = await c.until('onfail-ok Succeeded', async () => {
    const p = await getPod('onfail-ok');
    return p.status?.phase === 'Succeeded' ? p : undefined;
  });
  assert.equal(statusOf(ok, 'c').restartCount, 0);
  assert.equal(statusOf(ok, 'c').state.terminated.reason, 'Completed');
  const bad = await c.until('onfail-bad restarted', async () => {
    const p = await getPod('onfail-bad');
    return statusOf(p, 'c')?.restartCount >= 1 ? p : undefined;
  });
  assert.notEqual(bad.status.phase, 'Failed');
  assert.equal(statusOf(bad, 'c').lastState.terminated.exitCode, 5);
});

test('CrashLoopBackOff backs off longer each time: 10s, then 20s', async () => {
  await apply(pod('crashy', { containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'exit 1'] }] }));
  const w = await c.until('a 20s back-off', async () => {
    const s = statusOf(await getPod('crashy'), 'c');
    return s?.state?.waiting?.reason === 'CrashLoopBackOff' && /back-off 20s/.test(s.state.waiting.message) ? s : undefined;
  });
  assert.ok(w.restartCount >= 2, `restartCount ${w.restartCount}`);
  await c.kubectl(['-n', ns, 'delete', 'pod', 'crashy', '--grace-period=1', '--wait=true']);
});

test('a scheduled pod reports PodScheduled, hostIP and started; logs -c picks one container; exec -it gets a terminal', async () => {
  const scheduled = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'two' },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        { name: 'a', image: 'busybox', command: ['sh', '-c', 'echo alpha; sleep 3600'] },
        { name: 'b', image: 'busybox', command: ['sh', '-c', 'echo beta; sleep 3600'] },
      ],
    },
  };
  await apply(scheduled);
  const p = await waitRunning('two');
  assert.equal(p.spec.nodeName, c.nodeName, 'bound by the scheduler');
  assert.equal(p.status.conditions.find((x: any) => x.type === 'PodScheduled').status, 'True');
  const node = JSON.parse((await c.kubectl(['get', 'node', c.nodeName, '-o', 'json'])).stdout);
  assert.equal(p.status.hostIP, node.status.addresses.find((a: any) => a.type === 'InternalIP').address);
  assert.ok(p.status.containerStatuses.every((s: any) => s.started === true && s.ready === true));

  await c.until('both containers logged', async () => (await c.kubectl(['-n', ns, 'logs', 'two', '-c', 'b'])).stdout === 'beta\n');
  assert.equal((await c.kubectl(['-n', ns, 'logs', 'two', '-c', 'a'])).stdout, 'alpha\n');

  // `script` gives kubectl a terminal, as a user's shell would; the container then has one too.
  // The remote shell waits for a typed line, so the session stays open until our input has gone through it.
  // The line is typed once the remote shell has said it has a terminal, and script's stdin stays open until the
  // session ends: script ends (and hangs up kubectl) when its stdin does, which under load came before any output.
  const cmd = `kubectl -n ${ns} exec -it two -c a -- sh -c 'tty; test -t 0 && echo stdin-is-tty; read line; echo got-$line'`;
  const out = await typeInto(['script', '-qec', cmd, '/dev/null'], c.kubectlEnv, /stdin-is-tty/, 'typed\n');
  assert.match(out, /^\/dev\/pts\/\d+\r?$/m);
  assert.match(out, /stdin-is-tty/);
  assert.match(out, /got-typed/);
});

test('imagePullPolicy through the engine: IfNotPresent uses the local image, Always pulls the newer one from the registry, Never refuses a missing image', async () => {
  const reg: TestRegistry = await startTestRegistry();
  const tmp = await mkdtemp(join(tmpdir(), 'tug-cover-build-'));
  try {
    const dockerEnv = { ...process.env, DOCKER_HOST: `unix://${join(c.dataDir, 'engine.sock')}`, DOCKER_BUILDKIT: '0', DOCKER_CONFIG: join(tmp, 'docker-config') };
    const docker = (args: string[]) => runTool('docker', args, { env: dockerEnv });
    const ref = `${reg.hostPort}/cover/img:v1`;
    for (const v of ['A', 'B']) {
      await rm(join(tmp, v), { recursive: true, force: true });
      await runTool('mkdir', ['-p', join(tmp, v)]);
      await writeFile(join(tmp, v, 'Dockerfile'), `FROM busybox\nRUN echo ${v} > /v\n`);
      await docker(['build', '-q', '-t', `cover-local-${v.toLowerCase()}`, join(tmp, v)]);
    }
    // The registry holds B under the tag; the node's store holds A under it.
    await docker(['tag', 'cover-local-b', ref]);
    await docker(['push', ref]);
    await docker(['tag', 'cover-local-a', ref]);

    const run = ['sh', '-c', 'cat /v; sleep 3600'];
    await apply(pod('ifnp', { containers: [{ name: 'c', image: ref, imagePullPolicy: 'IfNotPresent', command: run }] }));
    await waitRunning('ifnp');
    assert.equal(await exec('ifnp', 'c', 'cat /v'), 'A\n');
    await apply(pod('always', { containers: [{ name: 'c', image: ref, imagePullPolicy: 'Always', command: run }] }));
    await waitRunning('always');
    assert.equal(await exec('always', 'c', 'cat /v'), 'B\n');

    const missing = `${reg.hostPort}/cover/img:absent`;
    await apply(pod('never', { containers: [{ name: 'c', image: missing, imagePullPolicy: 'Never', command: run }] }));
    const w = await waitWaiting('never', 'c', /^ErrImageNeverPull$/);
    assert.match(w.message, /not present with pull policy of Never/);
    await apply(pod('nopull', { containers: [{ name: 'c', image: missing, imagePullPolicy: 'IfNotPresent', command: run }] }));
    await waitWaiting('nopull', 'c', /^(ErrImagePull|ImagePullBackOff)$/);
    assert.equal((await getPod('nopull')).status.phase, 'Pending');
  } finally {
    await c.kubectl(['-n', ns, 'delete', 'pod', 'ifnp', 'always', 'never', 'nopull', '--grace-period=1', '--wait=true', '--ignore-not-found']);
    await reg.stop();
    await rm(tmp, { recursive: true, force: true });
  }
});

test('after every pod is deleted and the server stops, no container, mount, veth, bridge or iptables rule is left', async () => {
  await c.kubectl(['-n', ns, 'delete', 'pods', '--all', '--grace-period=1', '--wait=true']);
  const { dataDir, net } = c;
  await c.server.stop();
  assert.deepEqual(await leftovers(dataDir, net), []);
});

/** Runs argv, writes `line` to its stdin once its output matches `prompt`, and returns its output when it exits (bounded: 60 s). */
function typeInto(argv: string[], env: NodeJS.ProcessEnv, prompt: RegExp, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let typed = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (!typed && prompt.test(out)) {
        typed = true;
        child.stdin.write(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}
