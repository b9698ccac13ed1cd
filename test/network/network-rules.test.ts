// Per-network NAT and FORWARD rules: installed once (idempotent across daemon
// restarts), never per container, and removed exactly with the network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { installNetworkRules, networkRuleNames, removeNetworkRules } from '../../src/network/network-rules.js';
import { runTool } from '../../src/util/exec-file.js';
import { hostState, newTestNet, ourIptables, suffix, unusedSubnet } from './fixture.js';

async function rulesNaming(names: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const table of ['nat', 'filter']) {
    const { stdout } = await runTool('iptables', ['-w', '-t', table, '-S']);
    for (const l of stdout.split('\n')) if (names.some((n) => l.includes(n))) out.push(`${table} ${l}`);
  }
  return out.sort();
}

test('installNetworkRules twice gives one jump per table and the exact chain content; removeNetworkRules leaves nothing', async () => {
  const bridge = `tugr${suffix()}`;
  const subnet = await unusedSubnet();
  const n = networkRuleNames(bridge);
  try {
    await installNetworkRules(bridge, subnet);
    await installNetworkRules(bridge, subnet); // a restarted daemon
    assert.deepEqual(await rulesNaming([n.masq, n.forward]), [
      `filter -A FORWARD -j ${n.forward}`,
      `filter -A ${n.forward} -d ${subnet} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
      `filter -A ${n.forward} -s ${subnet} -j ACCEPT`,
      `filter -N ${n.forward}`,
      `nat -A POSTROUTING -s ${subnet} -j ${n.masq}`,
      `nat -A ${n.masq} -d ${subnet} -j RETURN`,
      `nat -A ${n.masq} -d 224.0.0.0/4 -j RETURN`,
      `nat -A ${n.masq} -j MASQUERADE`,
      `nat -N ${n.masq}`,
    ].sort());
  } finally {
    await removeNetworkRules(bridge);
  }
  assert.deepEqual(await rulesNaming([n.masq, n.forward]), []);
});

test('installNetworkRules refuses a subnet that is not an IPv4 CIDR and changes nothing', async () => {
  const bridge = `tugr${suffix()}`;
  const n = networkRuleNames(bridge);
  await assert.rejects(installNetworkRules(bridge, '10.1.2.0/24 -j ACCEPT'), /subnet .* is not an IPv4 CIDR/);
  assert.deepEqual(await rulesNaming([n.masq, n.forward]), []);
});

test('attaches add no per-container iptables rule; detaching them leaves only the network chains; destroy removes those', async () => {
  const t = await newTestNet();
  const ids = Array.from({ length: 3 }, () => `x${suffix()}`);
  try {
    const before = await hostState(t, ids);
    const atts = await Promise.all(ids.map((id) => t.net.attach(id, [])));
    const rules = await ourIptables(t, ids);
    for (const a of atts) assert.deepEqual(rules.filter((l) => l.includes(`${a.ip}/32`)), [], `rules naming ${a.ip}`);
    assert.deepEqual(rules.filter((l) => !t.net.ruleChains.some((c) => l.includes(c))), [], 'only the network chains');
    await Promise.all(ids.map((id) => t.net.detach(id)));
    const after = await hostState(t, ids);
    assert.deepEqual({ ...after, iptables: [] }, { ...before, iptables: [] });
    assert.ok(after.iptables.length > 0 && after.iptables.every((l) => t.net.ruleChains.some((c) => l.includes(c))), after.iptables.join('\n'));
    await t.net.destroy();
    assert.deepEqual(await ourIptables(t, ids), []);
  } finally {
    await t.cleanup();
  }
});

test('the isolation chain goes with its last member, and not before', async () => {
  const { addIsolationMember, removeIsolationMember } = await import('../../src/network/isolation-rules.js');
  const chain = `TUG-ISO-t${suffix()}`.slice(0, 28);
  const [b1, b2] = [`tugi${suffix()}`, `tugj${suffix()}`];
  const exists = async (): Promise<boolean> => (await runTool('iptables', ['-w', '-t', 'filter', '-S', chain], { allowFailure: true })).code === 0;
  try {
    await addIsolationMember(chain, b1);
    await addIsolationMember(chain, b2);
    await removeIsolationMember(chain, b1);
    assert.ok(await exists(), 'a member is left: the chain stays');
    assert.deepEqual(await rulesNaming([chain]), [`filter -A ${chain} -o ${b2} -j DROP`, `filter -N ${chain}`]);
    await removeIsolationMember(chain, b2);
    assert.equal(await exists(), false, 'the last member gone, the chain is gone');
  } finally {
    await runTool('iptables', ['-w', '-t', 'filter', '-F', chain], { allowFailure: true });
    await runTool('iptables', ['-w', '-t', 'filter', '-X', chain], { allowFailure: true });
  }
});
