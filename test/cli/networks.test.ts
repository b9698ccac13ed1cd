// tug network create / ls / inspect / connect / disconnect / rm / prune and
// tug run --network / --network-alias / --ip, with the docker CLI's flags and output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rand, setupCli, type CliEnv } from './cli-helpers.js';

let t: CliEnv;
before(async () => {
  t = await setupCli();
});
after(async () => {
  await t?.cleanup();
});

const b = 200 + (randomBytes(1)[0]! % 50);
const c = randomBytes(1)[0]!;
const subnet = `10.${b}.${c}.0/24`;
const at = (last: number): string => `10.${b}.${c}.${last}`;

test('network create, ls, inspect; run --network --ip --network-alias; connect, disconnect, rm, prune', async () => {
  const net = `tcn-${rand()}`;
  const net2 = `tcn2-${rand()}`;
  const create = await t.tug(['network', 'create', '--subnet', subnet, '--gateway', at(1), '--ip-range', `10.${b}.${c}.64/26`, '--label', 'k=v', net]);
  assert.equal(create.code, 0, create.stderr);
  assert.match(create.stdout, /^[0-9a-f]{64}\n$/);
  const id = create.stdout.trim();
  const ls = await t.tug(['network', 'ls', '--filter', `name=${net}`]);
  assert.match(ls.stdout.split('\n')[0]!, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
  assert.match(ls.stdout, new RegExp(`^${id.slice(0, 12)}\\s+${net}\\s+bridge\\s+local$`, 'm'));
  const fmt = await t.tug(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}} {{.IPRange}}{{end}} {{.Labels.k}}', net]);
  assert.equal(fmt.stdout, `${subnet} ${at(1)} 10.${b}.${c}.64/26 v\n`);
  const dup = await t.tug(['network', 'create', net]);
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, /network with name .* already exists/);

  const ctr = `tcc-${rand()}`;
  const run = await t.tug(['run', '-d', '--name', ctr, '--label', t.label, '--network', net, '--ip', at(9), '--network-alias', 'db', t.image, 'sleep', '300']);
  assert.equal(run.code, 0, run.stderr);
  const ins = await t.tug(['inspect', '-f', '{{json .NetworkSettings.Networks}}', ctr]);
  const ep = JSON.parse(ins.stdout)[net];
  assert.equal(ep.IPAddress, at(9));
  assert.equal(ep.Aliases[0], 'db');
  const peer = await t.tug(['run', '--rm', '--label', t.label, '--network', net, t.image, 'ping', '-c', '1', '-W', '2', at(9)]);
  assert.equal(peer.code, 0, `a container on ${net} reaches ${at(9)}: ${peer.stdout}${peer.stderr}`);

  assert.equal((await t.tug(['network', 'create', net2])).code, 0);
  const con = await t.tug(['network', 'connect', '--alias', 'second', net2, ctr]);
  assert.equal(con.code, 0, con.stderr);
  const eth1 = await t.tug(['exec', ctr, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1']);
  assert.equal(eth1.code, 0, eth1.stderr);
  const members = await t.tug(['network', 'inspect', '-f', '{{len .Containers}}', net2]);
  assert.equal(members.stdout, '1\n');
  assert.equal((await t.tug(['network', 'disconnect', net2, ctr])).code, 0);
  assert.equal((await t.tug(['network', 'inspect', '-f', '{{len .Containers}}', net2])).stdout, '0\n');

  const busy = await t.tug(['network', 'rm', net]);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /^Error response from daemon: error while removing network: .* has active endpoints\n$/);
  assert.equal((await t.tug(['rm', '-f', ctr])).code, 0);
  const rm = await t.tug(['network', 'rm', net]);
  assert.equal(rm.stdout, `${net}\n`);
  const prune = await t.tug(['network', 'prune', '-f']);
  assert.equal(prune.stdout, `Deleted Networks:\n${net2}\n\n`);
  const left = await t.tug(['network', 'ls', '--format', '{{.Name}}']);
  assert.deepEqual(left.stdout.trim().split('\n').sort(), ['bridge', 'host', 'none']);
});
