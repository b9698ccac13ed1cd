// Shared test helpers: temp roots, an in-process registry on 127.0.0.1:0, OCI
// image layouts built from scratch (no network), raw HTTP and skopeo calls.
import { mkdtemp, mkdir, writeFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { runTool } from '../../src/util/exec-file.js';
import { startRegistryServer, type RegistryServerOptions, type RunningRegistry } from '../../src/registry/main.js';

export const sha256 = (b: Buffer | string): string => 'sha256:' + createHash('sha256').update(b).digest('hex');
export const suffix = (): string => randomBytes(4).toString('hex');

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `tug-reg-${prefix}-`));
}

export interface TestRegistry extends RunningRegistry {
  root: string;
  /** host:port, for docker:// references */
  hostPort: string;
  stop(): Promise<void>;
}

/** A registry on a fresh temp root (or `root`), port 0; stop() closes it and removes the root if it made it. */
export async function startTestRegistry(opts: Partial<RegistryServerOptions> = {}): Promise<TestRegistry> {
  const made = opts.root === undefined;
  const root = opts.root ?? (await tempDir('root'));
  const reg = await startRegistryServer({ host: '127.0.0.1', port: 0, log: () => undefined, ...opts, root });
  return {
    ...reg,
    root,
    hostPort: `127.0.0.1:${reg.port}`,
    stop: async () => {
      await reg.close();
      if (made) await rm(root, { recursive: true, force: true });
    },
  };
}

export interface Resp {
  status: number;
  headers: Headers;
  body: Buffer;
  json(): any;
}

export async function http(method: string, url: string, opts: { headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<Resp> {
  const r = await fetch(url, { method, headers: opts.headers, body: opts.body, redirect: 'manual' });
  const body = Buffer.from(await r.arrayBuffer());
  return { status: r.status, headers: r.headers, body, json: () => JSON.parse(body.toString('utf8')) };
}

export function errorCode(r: Resp): string {
  return r.json().errors[0].code;
}

/** Push a blob monolithically (POST ?digest=); returns its digest. */
export async function pushBlob(base: string, repo: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const r = await http('POST', `${base}/v2/${repo}/blobs/uploads/?digest=${digest}`, {
    body: data,
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  if (r.status !== 201) throw new Error(`push blob: ${r.status} ${r.body.toString()}`);
  return digest;
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** Push config + one layer + manifest under `tag`; returns the manifest digest and body. */
export async function pushImage(base: string, repo: string, tag: string, extra: Record<string, unknown> = {}): Promise<{ digest: string; body: string; layer: string; config: string }> {
  const configBytes = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: suffix() }));
  const layerBytes = randomBytes(1000);
  const config = await pushBlob(base, repo, configBytes);
  const layer = await pushBlob(base, repo, layerBytes);
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: configBytes.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer, size: layerBytes.length }],
    ...extra,
  };
  const body = JSON.stringify(manifest);
  const r = await http('PUT', `${base}/v2/${repo}/manifests/${tag}`, { body, headers: { 'Content-Type': OCI_MANIFEST } });
  if (r.status !== 201) throw new Error(`push manifest: ${r.status} ${r.body.toString()}`);
  return { digest: sha256(body), body, layer, config };
}

async function writeBlob(layout: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const digest = sha256(data);
  await writeFile(join(layout, 'blobs', 'sha256', digest.slice(7)), data);
  return { digest, size: data.length };
}

/** One image: `layerCount` gzip tar layers holding `bytesPerLayer` random bytes each. */
async function writeImage(layout: string, arch: string, layerCount: number, bytesPerLayer: number): Promise<{ digest: string; size: number }> {
  const layers: { mediaType: string; digest: string; size: number }[] = [];
  const diffIds: string[] = [];
  for (let i = 0; i < layerCount; i++) {
    const src = await mkdtemp(join(tmpdir(), 'tug-reg-layer-'));
    try {
      await mkdir(join(src, 'data'));
      await writeFile(join(src, 'data', `file-${i}.bin`), randomBytes(bytesPerLayer));
      await writeFile(join(src, 'data', 'arch.txt'), `${arch} layer ${i}\n`);
      const tar = join(src, 'layer.tar');
      await runTool('tar', ['-C', join(src, 'data'), '-cf', tar, '.']);
      diffIds.push(sha256(await readFile(tar)));
      // --fast: random bytes do not compress; the benchmark measures the registry, not gzip.
      await runTool('gzip', ['-n', '--fast', tar]);
      const blob = await writeBlob(layout, await readFile(tar + '.gz'));
      layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...blob });
    } finally {
      await rm(src, { recursive: true, force: true });
    }
  }
  const config = Buffer.from(
    JSON.stringify({ architecture: arch, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds } }),
  );
  const cfg = await writeBlob(layout, config);
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg }, layers }),
  );
  return writeBlob(layout, manifest);
}

/**
 * Build an OCI image layout directory at `dir` with one entry tagged `tag`:
 * a single-arch image, or (with archs.length > 1) an image index of several.
 */
export async function buildOciLayout(dir: string, tag: string, opts: { archs?: string[]; layers?: number; bytesPerLayer?: number } = {}): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const archs = opts.archs ?? ['amd64'];
  const images = [];
  for (const arch of archs) {
    images.push({ arch, ...(await writeImage(dir, arch, opts.layers ?? 1, opts.bytesPerLayer ?? 4096)) });
  }
  let top: { mediaType: string; digest: string; size: number };
  if (archs.length === 1) {
    top = { mediaType: OCI_MANIFEST, digest: images[0].digest, size: images[0].size };
  } else {
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: images.map((i) => ({ mediaType: OCI_MANIFEST, digest: i.digest, size: i.size, platform: { architecture: i.arch, os: 'linux' } })),
      }),
    );
    top = { mediaType: OCI_INDEX, ...(await writeBlob(dir, index)) };
  }
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': tag } }] }),
  );
}

export function skopeo(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return runTool('skopeo', args, { timeoutMs: 600_000 });
}
