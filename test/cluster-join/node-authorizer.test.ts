// The Node authorizer and NodeRestriction admission, through real kubectl with
// the credentials a joined agent got by TLS bootstrapping (DATA_DIR/node.kubeconfig,
// user system:node:<name> in group system:nodes): a node reads the Secrets and
// ConfigMaps of pods bound to it and no others, writes its own Node and its
// status but no other Node, keeps its hands off the labels and taints that are
// the admin's, and writes, evicts and deletes only its own pods. Meanwhile
// both agents run pods that mount their Secrets (the agents' own path).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runTool, type RunResult } from '../../src/util/exec-file.js';
import { startAgentCluster, suffix, type AgentCluster, type AgentProc } from '../cluster-agent/agent-cluster.js';

let c: AgentCluster;
let a: AgentProc;
const nodeA = `authz-a-${suffix()}`;
const nodeB = `authz-b-${suffix()}`;
const ns = `authz-${suffix()}`;

before(async () => {
  c = await startAgentCluster();
  a = await c.startAgent(nodeA);
  await c.startAgent(nodeB);
  await c.kubectl(['create', 'namespace', ns]);
  for (const n of [nodeA, nodeB]) {
    await c.kubectl(['-n', ns, 'create', 'secret', 'generic', `s-${n}`, `--from-literal=k=${n}`]);
    await c.kubectl(['-n', ns, 'create', 'configmap', `cm-${n}`, `--from-literal=k=${n}`]);
    await c.kubectl(['-n', ns, 'apply', '-f', '-'], { input: podYaml(`p-${n}`, n) });
  }
  await c.kubectl(['-n', ns, 'create', 'secret', 'generic', 'unused', '--from-literal=k=v']);
  for (const n of [nodeA, nodeB]) {
    await c.until(`p-${n} Ready`, async () => (await c.kubectl(['-n', ns, 'get', 'pod', `p-${n}`, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'], { allowFailure: true })).stdout === 'True' || undefined);
  }
});

after(async () => {
  await c?.kubectl(['delete', 'namespace', ns, '--wait=false'], { allowFailure: true });
  await c?.stop();
});

function podYaml(name: string, node: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command: [sh, -c, 'cat /s/k /cm/k && sleep 3600']
    env: [{name: FROM_CM, valueFrom: {configMapKeyRef: {name: cm-${node}, key: k}}}]
    volumeMounts: [{name: s, mountPath: /s}, {name: cm, mountPath: /cm}]
  volumes:
  - {name: s, secret: {secretName: s-${node}}}
  - {name: cm, configMap: {name: cm-${node}}}
`;
}

/** kubectl as node A (its TLS-bootstrapped client certificate). */
function asA(args: string[], input?: string): Promise<RunResult> {
  return runTool('kubectl', ['--kubeconfig', join(a.dataDir, 'node.kubeconfig'), ...args], { allowFailure: true, input, env: { ...process.env, KUBECACHEDIR: join(a.dataDir, 'kubectl-cache') } });
}

const forbidden = (r: RunResult) => {
  assert.notEqual(r.code, 0, `expected a refusal, got: ${r.stdout}`);
  assert.match(r.stderr, /Forbidden|forbidden/, r.stderr);
};

test('the node identity is system:node:<name> in system:nodes, and no ClusterRoleBinding grants system:nodes anything', async () => {
  const who = await asA(['auth', 'whoami', '-o', 'json']);
  assert.equal(who.code, 0, who.stderr);
  const info = JSON.parse(who.stdout).status.userInfo;
  assert.equal(info.username, `system:node:${nodeA}`);
  assert.ok(info.groups.includes('system:nodes'));
  const crb = JSON.parse((await c.kubectl(['get', 'clusterrolebinding', 'system:node', '-o', 'json'])).stdout);
  assert.deepEqual(crb.subjects ?? [], []);
});

test('a node reads (gets, or lists and watches by name) the Secrets and ConfigMaps of its own pods, and gets 403 for another node pod\'s and for unused ones', async () => {
  const own = await asA(['-n', ns, 'get', 'secret', `s-${nodeA}`, '-o', 'jsonpath={.data.k}']);
  assert.equal(own.code, 0, own.stderr);
  assert.equal(Buffer.from(own.stdout, 'base64').toString(), nodeA);
  assert.equal((await asA(['-n', ns, 'get', 'configmap', `cm-${nodeA}`, '-o', 'jsonpath={.data.k}'])).stdout, nodeA);
  const other = await asA(['-n', ns, 'get', 'secret', `s-${nodeB}`]);
  forbidden(other);
  assert.match(other.stderr, new RegExp(`no relationship found between node '${nodeA}' and this object`));
  forbidden(await asA(['-n', ns, 'get', 'configmap', `cm-${nodeB}`]));
  forbidden(await asA(['-n', ns, 'get', 'secret', 'unused']));
  forbidden(await asA(['-n', ns, 'get', 'secrets']));
  forbidden(await asA(['-n', 'kube-system', 'get', 'secret', `${nodeB}.node-password.tug`]));
  // A list (or watch) pinned to one name is a read of that object: the agent watches what its pods use.
  const pinned = await asA(['-n', ns, 'get', 'configmaps', '--field-selector', `metadata.name=cm-${nodeA}`, '-o', 'jsonpath={.items[*].data.k}']);
  assert.equal(pinned.code, 0, pinned.stderr);
  assert.equal(pinned.stdout, nodeA);
  assert.equal((await asA(['-n', ns, 'get', 'secrets', '--field-selector', `metadata.name=s-${nodeA}`, '-o', 'name'])).stdout.trim(), `secret/s-${nodeA}`);
  forbidden(await asA(['-n', ns, 'get', 'configmaps', '--field-selector', `metadata.name=cm-${nodeB}`]));
  forbidden(await asA(['-n', ns, 'get', 'secrets', '--field-selector', 'metadata.name=unused']));
  forbidden(await asA(['-n', ns, 'get', 'configmaps', '--field-selector', `metadata.name!=cm-${nodeB}`]));
  // kubectl auth can-i asks the same authorizers (SelfSubjectAccessReview).
  assert.equal((await asA(['-n', ns, 'auth', 'can-i', 'get', `secret/s-${nodeA}`])).stdout.trim(), 'yes');
  assert.match((await asA(['-n', ns, 'auth', 'can-i', 'get', `secret/s-${nodeB}`])).stdout.trim(), /^no - no relationship found/);
});

test('a node reads what every node reads: pods, nodes, services, endpoints, endpointslices', async () => {
  for (const args of [['get', 'pods', '-A'], ['get', 'nodes'], ['get', 'services', '-A'], ['get', 'endpoints', '-A'], ['get', 'endpointslices', '-A']]) {
    const r = await asA([...args, '-o', 'name']);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  forbidden(await asA(['get', 'deployments', '-A']));
  forbidden(await asA(['create', 'namespace', `x-${suffix()}`]));
});

test('a node patches its own Node and its status; another Node, admin labels and its taints are 403', async () => {
  const own = await asA(['label', 'node', nodeA, 'example.com/rack=r1']);
  assert.equal(own.code, 0, own.stderr);
  const status = await asA(['patch', 'node', nodeA, '--subresource=status', '--type=merge', '-p', '{"status":{"capacity":{"example.com/dongle":"1"}}}']);
  assert.equal(status.code, 0, status.stderr);
  assert.equal((await c.kubectl(['get', 'node', nodeA, '-o', 'jsonpath={.status.capacity.example\\.com/dongle}'])).stdout, '1');
  forbidden(await asA(['label', 'node', nodeB, 'example.com/rack=r1']));
  forbidden(await asA(['patch', 'node', nodeB, '--subresource=status', '--type=merge', '-p', '{"status":{"capacity":{"example.com/dongle":"1"}}}']));
  const restricted = await asA(['label', 'node', nodeA, 'node-restriction.kubernetes.io/trusted=yes']);
  forbidden(restricted);
  assert.match(restricted.stderr, /not allowed to modify labels: node-restriction\.kubernetes\.io\/trusted/);
  forbidden(await asA(['label', 'node', nodeA, 'node-role.kubernetes.io/control-plane=']));
  forbidden(await asA(['taint', 'node', nodeA, 'example.com/dedicated=x:NoSchedule']));
  forbidden(await asA(['delete', 'node', nodeB, '--wait=false']));
  assert.equal((await c.kubectl(['get', 'node', nodeB, '-o', 'jsonpath={.metadata.labels.example\\.com/rack}'])).stdout, '');
});

test('a node writes status of, deletes and evicts only its own pods, and creates no pods but mirror pods bound to itself', async () => {
  const patch = '{"status":{"conditions":[{"type":"example.com/Checked","status":"True"}]}}';
  forbidden(await asA(['-n', ns, 'patch', 'pod', `p-${nodeB}`, '--subresource=status', '--type=merge', '-p', patch]));
  forbidden(await asA(['-n', ns, 'delete', 'pod', `p-${nodeB}`, '--wait=false']));
  const eviction = JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: `p-${nodeB}`, namespace: ns } });
  forbidden(await asA(['create', '--raw', `/api/v1/namespaces/${ns}/pods/p-${nodeB}/eviction`, '-f', '-'], eviction));
  forbidden(await asA(['-n', ns, 'label', 'pod', `p-${nodeA}`, 'x=y']));
  const plain = await asA(['-n', ns, 'run', `r-${suffix()}`, '--image=busybox', '--restart=Never', `--overrides={"spec":{"nodeName":"${nodeA}"}}`]);
  forbidden(plain);
  assert.match(plain.stderr, /can only create mirror pods/);
  const mirrorElsewhere = `apiVersion: v1\nkind: Pod\nmetadata: {name: m-${suffix()}, annotations: {kubernetes.io/config.mirror: x}}\nspec: {nodeName: ${nodeB}, containers: [{name: c, image: busybox}]}\n`;
  forbidden(await asA(['-n', ns, 'create', '-f', '-'], mirrorElsewhere));
  assert.equal((await c.kubectl(['-n', ns, 'get', 'pod', `p-${nodeB}`, '-o', 'jsonpath={.metadata.deletionTimestamp}'])).stdout, '');
  const del = await asA(['-n', ns, 'delete', 'pod', `p-${nodeA}`, '--wait=false']);
  assert.equal(del.code, 0, del.stderr);
});

test('a node writes only its own Lease in kube-node-lease', async () => {
  forbidden(await asA(['-n', 'kube-node-lease', 'annotate', 'lease', nodeB, 'x=y']));
  const own = await asA(['-n', 'kube-node-lease', 'annotate', 'lease', nodeA, 'example.com/checked=yes']);
  assert.equal(own.code, 0, own.stderr);
  const other = `apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: not-${nodeA}, namespace: kube-node-lease}\nspec: {holderIdentity: x}\n`;
  forbidden(await asA(['create', '-f', '-'], other));
});
