// The engine's answers for a name server on a user-defined network (what the
// embedded DNS asks), from container records alone: names, aliases shared by
// replicas, short ids, links, who has an address, and PTR names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetworkService } from '../../src/engine/network-service.js';
import { BridgeNetwork } from '../../src/network/bridge-network.js';
import { EventBus } from '../../src/engine/events.js';
import type { ContainerRecord, EndpointSettings } from '../../src/engine/container-record.js';

function ep(networkId: string, ip: string, aliases: string[] | null, links: string[] | null = null): EndpointSettings {
  return { IPAMConfig: null, Links: links, Aliases: aliases, NetworkID: networkId, EndpointID: ip ? 'e'.repeat(64) : '', Gateway: '', IPAddress: ip, IPPrefixLen: 24, MacAddress: '', DriverOpts: null };
}

function ctr(id: string, name: string, running: boolean, networks: Record<string, EndpointSettings>): ContainerRecord {
  return { Id: id.padEnd(64, '0'), Name: `/${name}`, State: { Running: running }, NetworkSettings: { Networks: networks } } as unknown as ContainerRecord;
}

test('addressesOf, linkNames, containerAt and nameAt answer from the running containers of one network', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tug-netlookup-'));
  try {
    const containers = [
      ctr('aaaa', 'proj_web_1', true, { proj_default: ep('N1', '10.9.0.2', ['web', 'aaaa00000000']) }),
      ctr('bbbb', 'proj_web_2', true, { proj_default: ep('N1', '10.9.0.3', ['web']) }),
      ctr('cccc', 'proj_db_1', true, { proj_default: ep('N1', '10.9.0.4', ['db'], ['proj_web_1:front']), other: ep('N2', '10.8.0.4', ['db']) }),
      ctr('dddd', 'stopped', false, { proj_default: ep('N1', '', ['web']) }),
    ];
    const svc = await NetworkService.open({
      root,
      defaultBridge: new BridgeNetwork({ root, bridgeName: 'unused0', subnet: '10.250.0.0/24' }),
      events: new EventBus(),
      containers: () => containers,
    });
    assert.deepEqual(svc.addressesOf('N1', 'WEB').sort(), ['10.9.0.2', '10.9.0.3'], 'an alias names every replica; case does not matter');
    assert.deepEqual(svc.addressesOf('N1', 'proj_db_1'), ['10.9.0.4']);
    assert.deepEqual(svc.addressesOf('N1', 'aaaa00000000'), ['10.9.0.2']);
    assert.deepEqual(svc.addressesOf('N1', 'cccc00000000'), ['10.9.0.4'], 'the short id is a name too');
    assert.deepEqual(svc.addressesOf('N2', 'web'), [], 'names are per network');
    assert.deepEqual(svc.addressesOf('N1', 'stopped'), [], 'only running containers answer');
    assert.deepEqual(svc.addressesOf('N1', 'front', containers[2]!.Id), ['10.9.0.2'], 'a link alias, for the linking container');
    assert.deepEqual(svc.addressesOf('N1', 'front', containers[0]!.Id), [], 'and for no one else');
    assert.equal(svc.containerAt('N1', '10.9.0.3')?.Name, '/proj_web_2');
    assert.equal(svc.containerAt('N1', '10.8.0.4'), undefined);
    assert.equal(svc.nameAt('N2', '10.8.0.4'), 'proj_db_1.other');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
