// The rule set as a pure function: kube-proxy's random split, REJECT without
// ready endpoints, no rules for headless Services, NodePorts, affinity, chain
// names within iptables' 28 characters, stale chains flushed and deleted, and
// externalTrafficPolicy Local.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRules, chainNames, restoreText } from '../../src/node/proxy/service-rules.js';
import type { BackendPort } from '../../src/node/proxy/service-endpoints.js';
import { backendsFromEndpoints, backendsFromSlices } from '../../src/node/proxy/service-endpoints.js';

const c = chainNames('tugpod0');
const svc = (name: string, spec: object) => ({ metadata: { namespace: 'ns', name }, spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }], ...spec } });
const three: BackendPort[] = [{ name: 'http', protocol: 'TCP', port: 8080, addresses: ['10.89.0.2', '10.89.0.3', '10.89.0.4', '10.89.0.5'].map((ip, i) => ({ ip, ready: i < 3 })) }];

test('ClusterIP and NodePort: three ready endpoints split 1/3, 1/2, rest; not-ready ones left out', () => {
  const r = buildRules(c, { services: [svc('web', { clusterIP: '10.96.0.50', type: 'NodePort' })], backends: new Map([['ns/web', three]]), podCidr: '10.89.0.0/16' });
  const svcChain = [...r.nat.keys()].find((k) => k.startsWith(c.svcPrefix))!;
  const rules = r.nat.get(svcChain)!;
  assert.match(rules[0], /! -s 10\.89\.0\.0\/16 -d 10\.96\.0\.50\/32 .* -j TUG-MARK-MASQ-/);
  assert.match(rules[1], /--probability 0\.3333333333/);
  assert.match(rules[2], /--probability 0\.5000000000/);
  assert.doesNotMatch(rules[3], /statistic/);
  assert.equal(rules.length, 4);
  const seps = [...r.nat.keys()].filter((k) => k.startsWith(c.sepPrefix));
  assert.equal(seps.length, 3);
  assert.ok(seps.some((k) => r.nat.get(k)!.some((l) => l.includes('DNAT --to-destination 10.89.0.4:8080'))));
  assert.ok(!seps.some((k) => r.nat.get(k)!.some((l) => l.includes('10.89.0.5'))), 'not-ready endpoint unused');
  assert.ok(r.nat.get(c.nodePorts)!.some((l) => l.includes('--dport 30080') && l.endsWith(svcChain)));
  assert.ok(r.nat.get(c.services)!.some((l) => l.includes('-d 10.96.0.50/32') && l.includes('--dport 80') && l.endsWith(svcChain)));
  for (const k of [...r.nat.keys(), ...r.filter.keys()]) assert.ok(k.length <= 28, k);
  assert.deepEqual(r.filter.get(c.reject), []);
});

test('no ready endpoints: REJECT for the ClusterIP and the NodePort, no DNAT; headless: nothing', () => {
  const r = buildRules(c, { services: [svc('web', { clusterIP: '10.96.0.50', type: 'NodePort' }), svc('db', { clusterIP: 'None' })], backends: new Map([['ns/web', []], ['ns/db', three]]), podCidr: '10.89.0.0/16' });
  const rej = r.filter.get(c.reject)!;
  assert.equal(rej.length, 2);
  assert.match(rej[0], /-d 10\.96\.0\.50\/32 .*--dport 80 -j REJECT --reject-with tcp-reset/);
  assert.match(rej[1], /--dst-type LOCAL .*--dport 30080 -j REJECT/);
  assert.equal([...r.nat.keys()].filter((k) => k.startsWith(c.svcPrefix) || k.startsWith(c.sepPrefix)).length, 0);
});

test('ClientIP affinity uses recent; restore text flushes our chains and deletes stale ones only', () => {
  const r = buildRules(c, { services: [svc('web', { clusterIP: '10.96.0.50', sessionAffinity: 'ClientIP' })], backends: new Map([['ns/web', three]]), podCidr: '10.89.0.0/16' });
  const svcChain = [...r.nat.keys()].find((k) => k.startsWith(c.svcPrefix))!;
  assert.equal(r.nat.get(svcChain)!.filter((l) => l.includes('--rcheck --seconds 10800')).length, 3);
  const text = restoreText(r, { nat: [`${c.svcPrefix}OLD`], filter: [] });
  assert.match(text, /^\*nat\n/);
  assert.match(text, new RegExp(`:${c.svcPrefix}OLD - \\[0:0\\]`));
  assert.match(text, new RegExp(`-X ${c.svcPrefix}OLD\\n`));
  assert.ok(text.indexOf(`-X ${c.svcPrefix}OLD`) > text.lastIndexOf(`-A ${svcChain}`), 'delete after the refill');
  assert.doesNotMatch(text, /PREROUTING|POSTROUTING -j|INPUT/, 'built-in chains untouched');
  assert.equal((text.match(/COMMIT/g) ?? []).length, 2);
  assert.notEqual(chainNames('tugpod1').tag, c.tag);
});

test('backends from EndpointSlices (ready/terminating conditions) and from Endpoints (notReadyAddresses)', () => {
  const slices = backendsFromSlices([{ metadata: {}, addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], endpoints: [{ addresses: ['10.1.0.2'], conditions: { ready: true } }, { addresses: ['10.1.0.3'], conditions: { ready: false } }, { addresses: ['10.1.0.4'] }] }]);
  assert.deepEqual(slices[0].addresses.map((a) => [a.ip, a.ready]), [['10.1.0.2', true], ['10.1.0.3', false], ['10.1.0.4', true]]);
  const eps = backendsFromEndpoints({ metadata: {}, subsets: [{ addresses: [{ ip: '10.1.0.2' }], notReadyAddresses: [{ ip: '10.1.0.9' }], ports: [{ port: 53, protocol: 'UDP', name: 'dns' }] }] });
  assert.deepEqual(eps, [{ name: 'dns', protocol: 'UDP', port: 53, addresses: [{ ip: '10.1.0.2', ready: true, hostname: undefined }, { ip: '10.1.0.9', ready: false, hostname: undefined }] }]);
});

test('externalTrafficPolicy Local: the NodePort goes to local endpoints only, unmasqueraded; none here drops; cluster CIDR decides masquerade', () => {
  // Two endpoints on this node (10.42.1.0/24), one on another node.
  const spread: BackendPort[] = [{ name: 'http', protocol: 'TCP', port: 8080, addresses: ['10.42.1.2', '10.42.1.3', '10.42.2.2'].map((ip) => ({ ip, ready: true })) }];
  const local = svc('web', { clusterIP: '10.96.0.60', type: 'NodePort', externalTrafficPolicy: 'Local' });
  const r = buildRules(c, { services: [local], backends: new Map([['ns/web', spread]]), podCidr: '10.42.1.0/24', clusterCidr: '10.42.0.0/16' });
  const nodePorts = r.nat.get(c.nodePorts)!;
  assert.equal(nodePorts.length, 1);
  assert.ok(!nodePorts.some((l) => l.includes(c.markMasq)), 'no masquerade: the pod sees the client');
  const xlb = nodePorts[0]!.split(' -j ')[1]!;
  assert.ok(xlb.startsWith(c.xlbPrefix) && xlb.length <= 28);
  const x = r.nat.get(xlb)!;
  assert.match(x[0]!, /-s 10\.42\.0\.0\/16 -j TUG-SVC-/, 'pods of the cluster go to any endpoint');
  const seps = x.slice(1).map((l) => l.split(' -j ')[1]!);
  assert.equal(seps.length, 2);
  const targets = seps.flatMap((s) => r.nat.get(s)!.filter((l) => l.includes('DNAT')).map((l) => l.split('--to-destination ')[1]));
  assert.deepEqual(targets.sort(), ['10.42.1.2:8080', '10.42.1.3:8080']);
  // The ClusterIP masquerades only sources from outside the cluster range.
  const svcChain = x[0]!.split(' -j ')[1]!;
  assert.match(r.nat.get(svcChain)![0]!, /! -s 10\.42\.0\.0\/16 -d 10\.96\.0\.60\/32/);
  // On a node without an endpoint: nothing is DNATed from outside, and the filter chain drops the NodePort.
  const other = buildRules(c, { services: [local], backends: new Map([['ns/web', spread]]), podCidr: '10.42.3.0/24', clusterCidr: '10.42.0.0/16' });
  const otherXlb = other.nat.get(other.nat.get(c.nodePorts)![0]!.split(' -j ')[1]!)!;
  assert.equal(otherXlb.length, 1);
  assert.ok(other.filter.get(c.reject)!.some((l) => l.includes('--dport 30080 -j DROP') && l.includes('! -s 10.42.0.0/16')));
  assert.ok(![...other.nat.values()].flat().some((l) => / -j DROP/.test(l)), 'no DROP in nat (iptables refuses it)');
});
