// A pod's volumes on the node: DIR/pods/<uid>/volumes/<name>. emptyDir is a
// directory; configMap, secret, downwardAPI and projected are directories of
// files written here and rewritten on every sync (so a changed source shows
// up in the running container, which bind-mounts the directory); hostPath is
// the host's own path.
import { chmod, mkdir, rm, readdir, readFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { invalid } from '../../errdefs.js';
import type { Pod, PodVolume, DownwardItem } from './pod-types.js';
import type { PodSources, KeyData } from './pod-sources.js';
import { fieldValue, resourceValue, type PodRuntimeFacts } from './downward.js';

export function podDir(dataDir: string, uid: string): string {
  return join(dataDir, 'pods', uid);
}

/** Writes every volume of the pod; returns volume name → host path. */
export async function prepareVolumes(dataDir: string, pod: Pod, sources: PodSources, facts: PodRuntimeFacts): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const base = join(podDir(dataDir, pod.metadata.uid!), 'volumes');
  for (const v of pod.spec.volumes ?? []) {
    if (v.hostPath) {
      if (v.hostPath.type === 'DirectoryOrCreate') await mkdir(v.hostPath.path, { recursive: true });
      out.set(v.name, v.hostPath.path);
      continue;
    }
    const dir = join(base, v.name);
    await mkdir(dir, { recursive: true });
    out.set(v.name, dir);
    // World-writable as the kubelet makes it, so a container running as any runAsUser can write there.
    if (v.emptyDir) {
      await chmod(dir, 0o777);
      continue;
    }
    const files = await volumeFiles(pod, v, sources, facts);
    if (!files) throw invalid(`volume "${v.name}": unsupported volume type (supported: emptyDir, hostPath, configMap, secret, downwardAPI, projected)`);
    await syncFiles(dir, files);
  }
  return out;
}

async function volumeFiles(pod: Pod, v: PodVolume, sources: PodSources, facts: PodRuntimeFacts): Promise<Map<string, Buffer> | undefined> {
  const files = new Map<string, Buffer>();
  const addKeys = (data: KeyData | null, items?: Array<{ key: string; path: string }>): void => {
    if (!data) return;
    if (items?.length) {
      for (const it of items) if (data[it.key] !== undefined) files.set(it.path, data[it.key]);
    } else for (const [k, b] of Object.entries(data)) files.set(k, b);
  };
  const addDownward = (items: DownwardItem[]): void => {
    for (const it of items) {
      const val = it.fieldRef ? fieldValue(pod, it.fieldRef.fieldPath, facts) : it.resourceFieldRef ? resourceValue(pod, it.resourceFieldRef.containerName ?? pod.spec.containers[0].name, it.resourceFieldRef, facts) : '';
      files.set(it.path, Buffer.from(val));
    }
  };
  if (v.configMap) addKeys(await sources.configMap(v.configMap.name, v.configMap.optional), v.configMap.items);
  else if (v.secret) addKeys(await sources.secret(v.secret.secretName, v.secret.optional), v.secret.items);
  else if (v.downwardAPI) addDownward(v.downwardAPI.items ?? []);
  else if (v.projected) {
    for (const s of v.projected.sources ?? []) {
      if (s.configMap) addKeys(await sources.configMap(s.configMap.name, s.configMap.optional), s.configMap.items);
      if (s.secret) addKeys(await sources.secret(s.secret.name, s.secret.optional), s.secret.items);
      if (s.downwardAPI) addDownward(s.downwardAPI.items ?? []);
      if (s.serviceAccountToken) files.set(s.serviceAccountToken.path, await sources.serviceAccountToken(pod, s.serviceAccountToken));
    }
  } else return undefined;
  return files;
}

/** Makes dir hold exactly these files (relative paths), each replaced atomically. */
async function syncFiles(dir: string, files: Map<string, Buffer>): Promise<void> {
  for (const [rel, data] of files) {
    const clean = normalize(rel);
    if (clean.startsWith('..') || clean.startsWith('/')) throw invalid(`volume file path "${rel}" must be relative and stay inside the volume`);
    const p = join(dir, clean);
    // Every sync rewrites the volumes; an unchanged file is left alone, which
    // saves the atomic write's fsyncs (several syncs per pod start).
    if (await sameContent(p, data)) continue;
    await mkdir(dirname(p), { recursive: true });
    await writeFileAtomic(p, data, 0o644);
  }
  const wanted = new Set([...files.keys()].map((k) => normalize(k).split('/')[0]));
  for (const e of await readdir(dir)) if (!wanted.has(e)) await rm(join(dir, e), { recursive: true, force: true });
}

async function sameContent(path: string, data: Buffer): Promise<boolean> {
  try {
    return (await readFile(path)).equals(data);
  } catch {
    return false;
  }
}

export async function removePodDir(dataDir: string, uid: string): Promise<void> {
  await rm(podDir(dataDir, uid), { recursive: true, force: true });
}
