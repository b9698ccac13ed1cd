// A small network made by hand for the embedded DNS tests, no daemon: a
// bridge holding a gateway address, and network namespaces each joined to it
// by a veth (eth0, default route via the gateway). Names and the 10.213.x.0/24
// subnet are unique to the test (checked against the host's routes), and
// destroy() removes the veths, the bridge and every namespace, also after a failure half-way through.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetns, removeNetns } from '../../src/network/netns.js';
import { subnetOverlapsRoute } from '../../src/network/routes.js';
import { runTool } from '../../src/util/exec-file.js';

export interface LabNetns {
  path: string;
  ip: string;
}

export interface Lab {
  bridge: string;
  /** e.g. '10.213.57.' */
  prefix: string;
  gateway: string;
  /** A namespace with address prefix+host on eth0. */
  addNetns(host: number): Promise<LabNetns>;
  destroy(): Promise<void>;
}

async function freeSubnetPrefix(): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const prefix = `10.213.${randomBytes(1)[0]!}.`;
    if (!(await subnetOverlapsRoute(`${prefix}0/24`))) return prefix;
  }
  throw new Error('no free 10.213.x.0/24 subnet');
}

export async function makeLab(): Promise<Lab> {
  const id = randomBytes(3).toString('hex');
  const bridge = `tdns${id}`;
  const dir = await mkdtemp(join(tmpdir(), 'tug-dns-lab-'));
  const made: string[] = [];
  const hostEnds: string[] = [];
  let prefix = '';
  const destroy = async (): Promise<void> => {
    for (const v of hostEnds) await runTool('ip', ['link', 'del', v], { allowFailure: true });
    await runTool('ip', ['link', 'del', bridge], { allowFailure: true });
    for (const p of made) await removeNetns(p).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    prefix = await freeSubnetPrefix();
    await runTool('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await runTool('ip', ['addr', 'add', `${prefix}1/24`, 'dev', bridge]);
    await runTool('ip', ['link', 'set', bridge, 'up']);
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    bridge,
    prefix,
    gateway: `${prefix}1`,
    async addNetns(host: number): Promise<LabNetns> {
      const path = join(dir, `ns${host}`);
      await createNetns(path);
      made.push(path);
      const hostEnd = `vd${id}${host}`;
      hostEnds.push(hostEnd);
      await runTool('ip', ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', `vc${id}${host}`]);
      await runTool('ip', ['link', 'set', hostEnd, 'master', bridge, 'up']);
      await runTool('ip', ['link', 'set', `vc${id}${host}`, 'netns', path]);
      const ip = `${prefix}${host}`;
      await runTool('nsenter', [`--net=${path}`, 'sh', '-ec', `ip link set "$1" name eth0; ip addr add "$2/24" dev eth0; ip link set eth0 up; ip route add default via "$3"`, 'sh', `vc${id}${host}`, ip, `${prefix}1`]);
      return { path, ip };
    },
    destroy,
  };
}
