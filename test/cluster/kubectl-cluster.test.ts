// kubectl's typed-client commands (protobuf bodies), discovery, explain and
// RBAC through `auth can-i` with impersonation, against a real `tug server`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, suffix, type TestServer } from './test-server.js';

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await srv?.stop();
});

test('api-resources lists every type with short names, verbs and the "all" category', async () => {
  const out = (await srv.kubectl(['api-resources', '-o', 'wide'])).stdout;
  for (const [name, short, kind] of [
    ['pods', 'po', 'Pod'],
    ['services', 'svc', 'Service'],
    ['deployments', 'deploy', 'Deployment'],
    ['replicasets', 'rs', 'ReplicaSet'],
    ['namespaces', 'ns', 'Namespace'],
    ['configmaps', 'cm', 'ConfigMap'],
    ['horizontalpodautoscalers', 'hpa', 'HorizontalPodAutoscaler'],
  ]) {
    assert.match(out, new RegExp(`^${name}\\s+${short}\\s+\\S+\\s+(true|false)\\s+${kind}\\s+create,delete,(deletecollection,)?get,list,patch,update,watch`, 'm'), name);
  }
  assert.match(out, /^selfsubjectaccessreviews\s+authorization.k8s.io\/v1\s+false\s+SelfSubjectAccessReview\s+create\s*$/m);
  const all = (await srv.kubectl(['api-resources', '--categories=all', '-o', 'name'])).stdout.split('\n');
  assert.ok(all.includes('pods') && all.includes('deployments.apps') && all.includes('cronjobs.batch'));
  assert.ok(!all.includes('configmaps'));
});

test('explain reads the OpenAPI schema (v3) with nested fields', async () => {
  const out = (await srv.kubectl(['explain', 'deployment.spec.strategy'])).stdout;
  assert.match(out, /KIND:\s+Deployment/);
  assert.match(out, /rollingUpdate\s+<Object>/);
  assert.match(out, /type\s+<string>/);
  const pod = (await srv.kubectl(['explain', 'pods.spec.containers.image'])).stdout;
  assert.match(pod, /FIELD:\s+image <string>/);
});

test('typed-client commands (protobuf request bodies) create the objects kubectl describes', async () => {
  const ns = `typed-${suffix()}`;
  await srv.kubectl(['create', 'namespace', ns]);
  await srv.kubectl(['-n', ns, 'create', 'deployment', 'd1', '--image=nginx:1.27', '--replicas=3', '--port=8080']);
  await srv.kubectl(['-n', ns, 'create', 'configmap', 'c1', '--from-literal=k=v']);
  await srv.kubectl(['-n', ns, 'create', 'secret', 'generic', 's1', '--from-literal=pw=hunter2']);
  await srv.kubectl(['-n', ns, 'run', 'p1', '--image=busybox', '--env=A=1', '--', 'sleep', '5']);
  await srv.kubectl(['-n', ns, 'create', 'job', 'j1', '--image=busybox', '--', 'echo', 'hi']);
  await srv.kubectl(['-n', ns, 'create', 'service', 'nodeport', 'np', '--tcp=80:8080']);
  await srv.kubectl(['-n', ns, 'create', 'serviceaccount', 'robot']);
  const d = JSON.parse((await srv.kubectl(['-n', ns, 'get', 'deploy', 'd1', '-o', 'json'])).stdout);
  assert.equal(d.spec.replicas, 3);
  assert.deepEqual(d.spec.selector.matchLabels, { app: 'd1' });
  assert.equal(d.spec.template.spec.containers[0].image, 'nginx:1.27');
  assert.equal(d.spec.template.spec.containers[0].ports[0].containerPort, 8080);
  assert.equal(d.spec.template.metadata.creationTimestamp, null);
  assert.equal(d.spec.strategy.type, 'RollingUpdate');
  assert.equal((await srv.kubectl(['-n', ns, 'get', 'cm', 'c1', '-o', 'jsonpath={.data.k}'])).stdout, 'v');
  const pw = (await srv.kubectl(['-n', ns, 'get', 'secret', 's1', '-o', 'jsonpath={.data.pw}'])).stdout;
  assert.equal(Buffer.from(pw, 'base64').toString(), 'hunter2');
  const p = JSON.parse((await srv.kubectl(['-n', ns, 'get', 'pod', 'p1', '-o', 'json'])).stdout);
  assert.deepEqual(p.spec.containers[0].args, ['sleep', '5']);
  assert.deepEqual(p.spec.containers[0].env, [{ name: 'A', value: '1' }]);
  assert.equal(p.metadata.labels.run, 'p1');
  assert.equal(p.status.phase, 'Pending');
  const pods = (await srv.kubectl(['-n', ns, 'get', 'pods'])).stdout;
  assert.match(pods, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
  assert.match(pods, /^p1\s+0\/1\s+Pending\s+0\s+\d+s/m);
  const j = JSON.parse((await srv.kubectl(['-n', ns, 'get', 'job', 'j1', '-o', 'json'])).stdout);
  assert.deepEqual(j.spec.template.spec.containers[0].command, ['echo', 'hi']);
  assert.equal(j.spec.template.spec.restartPolicy, 'Never');
  const np = JSON.parse((await srv.kubectl(['-n', ns, 'get', 'svc', 'np', '-o', 'json'])).stdout);
  assert.equal(np.spec.type, 'NodePort');
  assert.ok(np.spec.ports[0].nodePort >= 30000 && np.spec.ports[0].nodePort <= 32767);
  assert.equal(np.spec.ports[0].targetPort, 8080);
  const sas = (await srv.kubectl(['-n', ns, 'get', 'sa', '-o', 'name'])).stdout.split('\n').filter(Boolean).sort();
  assert.deepEqual(sas, ['serviceaccount/default', 'serviceaccount/robot']);
});

test('RBAC: auth can-i and requests as another user follow Roles and RoleBindings', async () => {
  const ns = `rbac-${suffix()}`;
  const user = `bob-${suffix()}`;
  await srv.kubectl(['create', 'namespace', ns]);
  assert.equal((await srv.kubectl(['auth', 'can-i', 'delete', 'nodes'])).stdout.trim(), 'yes', 'admin is in system:masters');
  await srv.kubectl(['-n', ns, 'create', 'role', 'reader', '--verb=get,list,watch', '--resource=pods,configmaps']);
  await srv.kubectl(['-n', ns, 'create', 'rolebinding', 'reader-binding', '--role=reader', `--user=${user}`]);
  const can = async (...args: string[]) => (await srv.kubectl(['auth', 'can-i', ...args, `--as=${user}`], { allowFailure: true })).stdout.trim();
  assert.equal(await can('list', 'pods', '-n', ns), 'yes');
  assert.equal(await can('get', 'configmaps', '-n', ns), 'yes');
  assert.equal(await can('delete', 'pods', '-n', ns), 'no');
  assert.equal(await can('list', 'pods', '-n', 'default'), 'no');
  assert.equal(await can('list', 'deployments.apps', '-n', ns), 'no');
  const denied = await srv.kubectl(['-n', 'default', 'get', 'pods', `--as=${user}`], { allowFailure: true });
  assert.match(denied.stderr, new RegExp(`Forbidden.*User "${user}" cannot list resource "pods" in API group "" in the namespace "default"`));
  const allowed = await srv.kubectl(['-n', ns, 'get', 'configmaps', `--as=${user}`, '-o', 'name']);
  assert.equal(allowed.code, 0);
  await srv.kubectl(['create', 'clusterrolebinding', `${user}-view`, '--clusterrole=view', `--user=${user}`]);
  assert.equal(await can('list', 'deployments.apps', '-n', 'default'), 'yes');
  await srv.kubectl(['delete', 'clusterrolebinding', `${user}-view`]);
  const who = (await srv.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])).stdout;
  assert.equal(who, 'admin');
});

test('ServiceAccount tokens from `kubectl create token` authenticate as the ServiceAccount until it is deleted', async () => {
  const ns = `sa-${suffix()}`;
  await srv.kubectl(['create', 'namespace', ns]);
  await srv.kubectl(['-n', ns, 'create', 'serviceaccount', 'robot']);
  const token = (await srv.kubectl(['-n', ns, 'create', 'token', 'robot'])).stdout.trim();
  assert.equal(token.split('.').length, 3);
  const who = (await srv.kubectl(['--token', token, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}'])).stdout;
  assert.equal(who, `system:serviceaccount:${ns}:robot ["system:serviceaccounts","system:serviceaccounts:${ns}","system:authenticated"]`);
  const denied = await srv.kubectl(['--token', token, '-n', ns, 'get', 'pods'], { allowFailure: true });
  assert.match(denied.stderr, /Forbidden/);
  await srv.kubectl(['-n', ns, 'create', 'rolebinding', 'robot-view', '--clusterrole=view', `--serviceaccount=${ns}:robot`]);
  assert.equal((await srv.kubectl(['--token', token, '-n', ns, 'get', 'pods'], { allowFailure: true })).code, 0);
  const short = await srv.kubectl(['-n', ns, 'create', 'token', 'robot', '--duration=1m'], { allowFailure: true });
  assert.match(short.stderr, /may not specify a duration less than 10 minutes/);
  await srv.kubectl(['-n', ns, 'delete', 'serviceaccount', 'robot']);
  const after = await srv.kubectl(['--token', token, '-n', ns, 'get', 'pods'], { allowFailure: true });
  assert.match(after.stderr, /Unauthorized/);
});

test('networking, policy and scheduling kinds apply and print like Kubernetes', async () => {
  const ns = `net-${suffix()}`;
  await srv.kubectl(['create', 'namespace', ns]);
  const pc = `high-${suffix()}`;
  const yaml = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: ${ns}}
spec:
  ingressClassName: nginx
  rules:
  - host: a.example
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: ${ns}}
spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: ${ns}}
spec: {podSelector: {}}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: ${pc}}
value: 1000
`;
  const out = (await srv.kubectl(['apply', '-f', '-'], { input: yaml })).stdout;
  assert.match(out, /ingress.networking.k8s.io\/web created/);
  assert.match(out, /poddisruptionbudget.policy\/web created/);
  const ing = (await srv.kubectl(['-n', ns, 'get', 'ingress'])).stdout;
  assert.match(ing, /^web\s+nginx\s+a\.example\s+80\s+\S+$/m);
  const pdb = (await srv.kubectl(['-n', ns, 'get', 'pdb'])).stdout;
  assert.match(pdb, /^web\s+1\s+N\/A\s+0\s+/m);
  const np = JSON.parse((await srv.kubectl(['-n', ns, 'get', 'netpol', 'deny', '-o', 'json'])).stdout);
  assert.deepEqual(np.spec.policyTypes, ['Ingress']);
  assert.equal((await srv.kubectl(['get', 'pc', pc, '-o', 'jsonpath={.preemptionPolicy}'])).stdout, 'PreemptLowerPriority');
  const bad = await srv.kubectl(['-n', ns, 'create', '-f', '-'], { input: yaml.split('---')[0].replace('pathType: Prefix, ', '').replace('name: web,', 'name: web2,'), allowFailure: true });
  assert.match(bad.stderr, /spec.rules\[0\].http.paths\[0\].pathType: Required value/);
  await srv.kubectl(['delete', 'pc', pc]);
});

test('ResourceQuota refuses creates beyond spec.hard and reports usage in status', async () => {
  const ns = `quota-${suffix()}`;
  await srv.kubectl(['create', 'namespace', ns]);
  // Services and pods: nothing but this test creates them here (controllers add ConfigMaps such as kube-root-ca.crt).
  await srv.kubectl(['-n', ns, 'create', 'quota', 'q1', '--hard=pods=2,services=2,requests.cpu=1']);
  const pod = (name: string, cpu?: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec: {containers: [{name: c, image: busybox${cpu ? `, resources: {requests: {cpu: ${cpu}}}` : ''}}]}\n`;
  const noCpu = await srv.kubectl(['-n', ns, 'create', '-f', '-'], { input: pod('a'), allowFailure: true });
  assert.match(noCpu.stderr, /forbidden: failed quota: q1: must specify requests.cpu/);
  await srv.kubectl(['-n', ns, 'create', '-f', '-'], { input: pod('b', '600m') });
  const over = await srv.kubectl(['-n', ns, 'create', '-f', '-'], { input: pod('c', '600m'), allowFailure: true });
  assert.match(over.stderr, /pods "c" is forbidden: exceeded quota: q1, requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1/);
  await srv.kubectl(['-n', ns, 'create', 'service', 'clusterip', 's1', '--tcp=80:80']);
  await srv.kubectl(['-n', ns, 'create', 'service', 'clusterip', 's2', '--tcp=80:80']);
  const s3 = await srv.kubectl(['-n', ns, 'create', 'service', 'clusterip', 's3', '--tcp=80:80'], { allowFailure: true });
  assert.match(s3.stderr, /exceeded quota: q1, requested: services=1, used: services=2, limited: services=2/);
  // The status updater runs after writes; wait for it through kubectl rather than sleeping.
  await srv.kubectl(['-n', ns, 'wait', '--for=jsonpath={.status.used.services}=2', 'quota/q1', '--timeout=30s']);
  const q = JSON.parse((await srv.kubectl(['-n', ns, 'get', 'quota', 'q1', '-o', 'json'])).stdout);
  assert.deepEqual(q.status.used, { pods: '1', services: '2', 'requests.cpu': '600m' });
  await srv.kubectl(['-n', ns, 'delete', 'service', 's1']);
  await srv.kubectl(['-n', ns, 'create', 'service', 'clusterip', 's3', '--tcp=80:80']);
});

test('LimitRange fills container defaults and refuses containers above max', async () => {
  const ns = `limits-${suffix()}`;
  await srv.kubectl(['create', 'namespace', ns]);
  await srv.kubectl(['-n', ns, 'apply', '-f', '-'], {
    input: 'apiVersion: v1\nkind: LimitRange\nmetadata: {name: lr}\nspec:\n  limits:\n  - type: Container\n    default: {cpu: 500m, memory: 128Mi}\n    defaultRequest: {cpu: 100m}\n    max: {cpu: "1"}\n',
  });
  await srv.kubectl(['-n', ns, 'run', 'small', '--image=busybox']);
  const res = JSON.parse((await srv.kubectl(['-n', ns, 'get', 'pod', 'small', '-o', 'jsonpath={.spec.containers[0].resources}'])).stdout);
  assert.deepEqual(res, { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
  const big = await srv.kubectl(['-n', ns, 'create', '-f', '-'], { input: 'apiVersion: v1\nkind: Pod\nmetadata: {name: big}\nspec: {containers: [{name: c, image: busybox, resources: {limits: {cpu: "2"}}}]}\n', allowFailure: true });
  assert.match(big.stderr, /pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2/);
});

test('CustomResourceDefinitions: served types with schema defaults, validation, printer columns, scale and cleanup', async () => {
  const group = `g${suffix()}.example.com`;
  const ns = `crd-${suffix()}`;
  await srv.kubectl(['create', 'namespace', ns]);
  const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.${group}}
spec:
  group: ${group}
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Size, type: string, jsonPath: .spec.size}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: string, enum: [small, large], description: How big the widget is.}
              replicas: {type: integer, default: 1, maximum: 10}
          status:
            type: object
            properties:
              replicas: {type: integer}
`;
  await srv.kubectl(['apply', '-f', '-'], { input: crd });
  await srv.kubectl(['wait', '--for=condition=Established', `crd/widgets.${group}`, '--timeout=30s']);
  const w = (name: string, spec: string) => `apiVersion: ${group}/v1\nkind: Widget\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: ${spec}\n`;
  await srv.kubectl(['apply', '-f', '-'], { input: w('w1', '{size: small}') });
  const obj = JSON.parse((await srv.kubectl(['-n', ns, 'get', `widgets.${group}`, 'w1', '-o', 'json'])).stdout);
  assert.equal(obj.spec.replicas, 1, 'schema default applied');
  const table = (await srv.kubectl(['-n', ns, 'get', `widgets.${group}`])).stdout;
  assert.match(table, /^NAME\s+SIZE\s+REPLICAS\s+AGE$/m);
  assert.match(table, /^w1\s+small\s+1\s+\S+$/m);
  await srv.kubectl(['-n', ns, 'scale', `widgets.${group}`, 'w1', '--replicas=3']);
  assert.equal((await srv.kubectl(['-n', ns, 'get', `widgets.${group}`, 'w1', '-o', 'jsonpath={.spec.replicas}'])).stdout, '3');
  const bad = await srv.kubectl(['apply', '-f', '-'], { input: w('w2', '{size: huge, replicas: 20}'), allowFailure: true });
  assert.match(bad.stderr, /spec.size: Unsupported value: "huge"/);
  assert.match(bad.stderr, /spec.replicas in body should be less than or equal to 10/);
  const unknown = await srv.kubectl(['apply', '-f', '-'], { input: w('w3', '{size: small, bogus: 1}'), allowFailure: true });
  assert.match(unknown.stderr, /unknown field "spec.bogus"/);
  const explain = (await srv.kubectl(['explain', `widgets.spec.size`, `--api-version=${group}/v1`])).stdout;
  assert.match(explain, /How big the widget is/);
  await srv.kubectl(['delete', 'crd', `widgets.${group}`, '--timeout=60s']);
  const gone = await srv.kubectl(['-n', ns, 'get', `widgets.${group}`], { allowFailure: true });
  assert.notEqual(gone.code, 0);
  // Re-creating the CRD must not bring the old objects back: deletion cleaned them out of storage.
  await srv.kubectl(['apply', '-f', '-'], { input: crd });
  await srv.kubectl(['wait', '--for=condition=Established', `crd/widgets.${group}`, '--timeout=30s']);
  const list = JSON.parse((await srv.http('GET', `/apis/${group}/v1/namespaces/${ns}/widgets`)).body);
  assert.deepEqual(list.items, []);
  await srv.kubectl(['delete', 'crd', `widgets.${group}`, '--timeout=60s']);
});

test('kubectl create pdb/priorityclass, cordon and drain: eviction honours PodDisruptionBudgets', async () => {
  const ns = `drain-${suffix()}`;
  const node = `node-${suffix()}`;
  const pc = `pc-${suffix()}`;
  await srv.kubectl(['create', 'namespace', ns]);
  await srv.kubectl(['-n', ns, 'create', 'pdb', 'guard', '--selector=app=guarded', '--min-available=1']);
  assert.deepEqual(JSON.parse((await srv.kubectl(['-n', ns, 'get', 'pdb', 'guard', '-o', 'jsonpath={.spec}'])).stdout), { minAvailable: 1, selector: { matchLabels: { app: 'guarded' } } });
  await srv.kubectl(['create', 'priorityclass', pc, '--value=0', '--description=zero is a value']);
  assert.equal((await srv.kubectl(['get', 'pc', pc, '-o', 'jsonpath={.value}/{.description}'])).stdout, '0/zero is a value');
  await srv.kubectl(['delete', 'pc', pc]);
  await srv.kubectl(['apply', '-f', '-'], {
    input: `apiVersion: v1\nkind: Node\nmetadata: {name: ${node}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: guarded, namespace: ${ns}, labels: {app: guarded}}\nspec: {nodeName: ${node}, containers: [{name: c, image: busybox}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: free, namespace: ${ns}}\nspec: {nodeName: ${node}, containers: [{name: c, image: busybox}]}\n`,
  });
  await srv.kubectl(['cordon', node]);
  assert.equal((await srv.kubectl(['get', 'node', node, '-o', 'jsonpath={.spec.unschedulable}'])).stdout, 'true');
  const drain = await srv.kubectl(['drain', node, '--force', '--grace-period=0', '--timeout=5s'], { allowFailure: true });
  assert.notEqual(drain.code, 0, 'the guarded pod cannot be evicted');
  assert.match((await srv.kubectl(['-n', ns, 'get', 'pod', 'free'], { allowFailure: true })).stderr, /NotFound/);
  assert.equal((await srv.kubectl(['-n', ns, 'get', 'pod', 'guarded', '-o', 'name'])).stdout.trim(), 'pod/guarded');
  await srv.kubectl(['-n', ns, 'delete', 'pdb', 'guard']);
  await srv.kubectl(['drain', node, '--force', '--grace-period=0', '--timeout=30s']);
  assert.match((await srv.kubectl(['-n', ns, 'get', 'pod', 'guarded'], { allowFailure: true })).stderr, /NotFound/);
  await srv.kubectl(['delete', 'node', node]);
});

test('kubectl autoscale writes autoscaling/v1; the same object reads as autoscaling/v2; system namespaces cannot be deleted', async () => {
  const ns = `hpa-${suffix()}`;
  await srv.kubectl(['create', 'namespace', ns]);
  await srv.kubectl(['-n', ns, 'create', 'deployment', 'web', '--image=nginx:1.27']);
  await srv.kubectl(['-n', ns, 'autoscale', 'deployment', 'web', '--min=2', '--max=5', '--cpu-percent=80']);
  const v1 = JSON.parse((await srv.http('GET', `/apis/autoscaling/v1/namespaces/${ns}/horizontalpodautoscalers/web`)).body);
  assert.equal(v1.apiVersion, 'autoscaling/v1');
  assert.equal(v1.spec.targetCPUUtilizationPercentage, 80);
  const v2 = JSON.parse((await srv.http('GET', `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/web`)).body);
  assert.equal(v2.apiVersion, 'autoscaling/v2');
  assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  assert.match((await srv.kubectl(['-n', ns, 'get', 'hpa'])).stdout, /^web\s+Deployment\/web\s+cpu: \S+\/80%\s+2\s+5\s+\d+\s+/m);
  for (const sys of ['default', 'kube-system']) {
    const r = await srv.kubectl(['delete', 'namespace', sys], { allowFailure: true });
    assert.match(r.stderr, new RegExp(`namespaces "${sys}" is forbidden: this namespace may not be deleted`));
  }
});
