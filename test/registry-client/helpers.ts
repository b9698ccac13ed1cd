// Helpers for the registry client tests: run the docker CLI and bin/tug against
// a test daemon, start Debian's docker-registry (CNCF Distribution) on
// 127.0.0.1, and build runnable OCI layouts from a busybox rootfs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { runTool } from '../../src/util/exec-file.js';
import { buildBusyboxLayer } from '../../src/image/busybox.js';
import { tugBin } from '../helpers/tug-daemon.js';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export const rand = (): string => randomBytes(4).toString('hex');
export const sha256 = (b: Buffer | string): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.end(input);
  });
}

export const docker = (env: NodeJS.ProcessEnv, args: string[], input?: string): Promise<Result> => run('docker', args, env, input);
export const tug = (env: NodeJS.ProcessEnv, args: string[], input?: string): Promise<Result> => run(process.execPath, [tugBin, ...args], env, input);

/** Fails with the command's output when it did not exit 0. */
export function ok(r: Result, what: string): Result {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** A free port on 127.0.0.1 (for servers that cannot be told to pick one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Distribution {
  hostPort: string;
  stop(): Promise<void>;
}

/** Debian's docker-registry (CNCF Distribution) with a temp root, on 127.0.0.1. */
export async function startDistribution(): Promise<Distribution> {
  const dir = await mkdtemp(join(tmpdir(), 'tug-distribution-'));
  const port = await freePort();
  await writeFile(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const child: ChildProcess = spawn('/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'ignore'] });
  const hostPort = `127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await fetch(`http://${hostPort}/v2/`);
      if (r.status === 200) break;
    } catch {
      // not up yet
    }
    if (Date.now() > until || child.exitCode !== null) {
      await stop();
      throw new Error('docker-registry did not start');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { hostPort, stop };
}

async function writeBlob(layout: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const digest = sha256(data);
  await writeFile(join(layout, 'blobs', 'sha256', digest.slice(7)), data);
  return { digest, size: data.length };
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/**
 * An OCI layout at `dir` tagged `tag` whose image runs: a gzip busybox rootfs
 * layer. With several archs, an index of one such image per arch, each config
 * labelled arch=<arch> so a test can tell which one was pulled.
 */
export async function buildBusyboxLayout(dir: string, tag: string, archs: string[] = ['amd64']): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const work = await mkdtemp(join(tmpdir(), 'tug-bb-layer-'));
  try {
    const { tarPath, config } = await buildBusyboxLayer(work);
    const diffId = sha256(await readFile(tarPath));
    await runTool('gzip', ['-n', '--fast', tarPath]);
    const layer = await writeBlob(dir, await readFile(tarPath + '.gz'));
    const manifests = [];
    for (const arch of archs) {
      const cfg = { ...config, architecture: arch, config: { ...config.config, Labels: { arch } }, rootfs: { type: 'layers', diff_ids: [diffId] } };
      const c = await writeBlob(dir, Buffer.from(JSON.stringify(cfg)));
      const man = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...c }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }] };
      manifests.push({ mediaType: OCI_MANIFEST, ...(await writeBlob(dir, Buffer.from(JSON.stringify(man)))), platform: { architecture: arch, os: 'linux' } });
    }
    let top: { mediaType: string; digest: string; size: number };
    if (archs.length === 1) top = { mediaType: OCI_MANIFEST, digest: manifests[0]!.digest, size: manifests[0]!.size };
    else top = { mediaType: OCI_INDEX, ...(await writeBlob(dir, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests })))) };
    await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': tag } }] }));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
