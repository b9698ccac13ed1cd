// A pod's volumes on the node: DIR/pods/<uid>/volumes/<name>. emptyDir is a
// directory; configMap, secret, downwardAPI and projected are directories of
// files written here and rewritten on every sync (so a changed source shows
// up in the running container, which bind-mounts the directory); hostPath is
// the host's own path (checked against its type as the kubelet does); a
// persistentVolumeClaim is followed to its bound PersistentVolume, whose
// hostPath or local path is mounted (tug's local-path volumes live in this
// agent's own directory, local-volumes.ts). fsGroup makes emptyDir and
// local volumes group-owned (host-volume-ownership.ts).
import { chmod, mkdir, rm, readdir, readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { invalid } from '../../errdefs.js';
import { MountError } from './mount-error.js';
import type { Pod, PodVolume, DownwardItem } from './pod-types.js';
import type { PodSources, KeyData } from './pod-sources.js';
import { fieldValue, resourceValue, type PodRuntimeFacts } from './downward.js';
import type { HostVolumes } from './volume-mounts.js';
import { checkHostPath } from './host-path.js';
import { applyFsGroup } from './volume-ownership.js';
import type { LocalVolumes } from './local-volumes.js';
import { volumeHostnames } from '../../kube/api/storage.js';

export function podDir(dataDir: string, uid: string): string {
  return join(dataDir, 'pods', uid);
}

export interface VolumeContext {
  sources: PodSources;
  facts: PodRuntimeFacts;
  localVolumes?: LocalVolumes;
  /** This node: a volume pinned (kubernetes.io/hostname) to other nodes is not mounted here. */
  nodeName?: string;
  /** Volumes whose ownership was already set for this pod (fsGroupChangePolicy Always: once per pod start). */
  owned: Set<string>;
}

/** Writes every volume of the pod; returns the host paths (and which are read-only). */
export async function prepareVolumes(dataDir: string, pod: Pod, ctx: VolumeContext): Promise<HostVolumes> {
  const out: HostVolumes = { paths: new Map(), readOnly: new Set() };
  const base = join(podDir(dataDir, pod.metadata.uid!), 'volumes');
  const fsGroup = pod.spec.securityContext?.fsGroup;
  const own = async (name: string, path: string, readOnly: boolean): Promise<void> => {
    if (fsGroup === undefined || ctx.owned.has(name)) return;
    await applyFsGroup(path, fsGroup, pod.spec.securityContext?.fsGroupChangePolicy ?? 'Always', readOnly);
    ctx.owned.add(name);
  };
  for (const v of pod.spec.volumes ?? []) {
    if (v.hostPath) {
      await checkHostPath(v.name, v.hostPath.path, v.hostPath.type);
      out.paths.set(v.name, v.hostPath.path);
      continue;
    }
    if (v.persistentVolumeClaim) {
      const { path, local } = await claimPath(pod, v, ctx);
      out.paths.set(v.name, path);
      const readOnly = Boolean(v.persistentVolumeClaim.readOnly);
      if (readOnly) out.readOnly.add(v.name);
      if (local) await own(v.name, path, readOnly);
      continue;
    }
    const dir = join(base, v.name);
    await mkdir(dir, { recursive: true });
    out.paths.set(v.name, dir);
    // World-writable as the kubelet makes it, so a container running as any runAsUser can write there.
    if (v.emptyDir) {
      if (!ctx.owned.has(v.name)) await chmod(dir, 0o777);
      await own(v.name, dir, false);
      continue;
    }
    const files = await volumeFiles(pod, v, ctx.sources, ctx.facts);
    if (!files) throw invalid(`volume "${v.name}": unsupported volume type (supported: emptyDir, hostPath, persistentVolumeClaim, configMap, secret, downwardAPI, projected)`);
    await syncFiles(dir, files);
  }
  return out;
}

/** Claim -> bound PersistentVolume -> its path on this node. */
async function claimPath(pod: Pod, v: PodVolume, ctx: VolumeContext): Promise<{ path: string; local: boolean }> {
  const ns = pod.metadata.namespace ?? 'default';
  const claimName = v.persistentVolumeClaim!.claimName;
  const claim = await ctx.sources.claim(claimName);
  if (!claim) throw new MountError(v.name, `persistentvolumeclaim "${claimName}" not found`);
  if (claim.status?.phase !== 'Bound' || !claim.spec?.volumeName) throw new MountError(v.name, `error processing PVC ${ns}/${claimName}: PVC is not bound`);
  const pv = await ctx.sources.volume(claim.spec.volumeName);
  if (!pv) throw new MountError(v.name, `persistentvolume "${claim.spec.volumeName}" not found`);
  if (pv.spec?.claimRef?.uid && pv.spec.claimRef.uid !== claim.metadata.uid) throw new MountError(v.name, `PersistentVolume "${pv.metadata.name}" is not bound to claim ${ns}/${claimName}`);
  const hosts = volumeHostnames(pv);
  if (ctx.nodeName && hosts.length && !hosts.includes(ctx.nodeName)) throw new MountError(v.name, `PersistentVolume "${pv.metadata.name}" is pinned to node ${hosts.join(', ')} (its nodeAffinity), not to ${ctx.nodeName}`);
  const own = await ctx.localVolumes?.ensure(pv);
  if (own) return { path: own, local: true };
  if (pv.spec?.hostPath) {
    await checkHostPath(v.name, pv.spec.hostPath.path, pv.spec.hostPath.type);
    return { path: pv.spec.hostPath.path, local: false };
  }
  if (pv.spec?.local) {
    // A local volume is made by an administrator: it must already be there.
    await checkHostPath(v.name, pv.spec.local.path, '', `path "${pv.spec.local.path}" does not exist`);
    return { path: pv.spec.local.path, local: true };
  }
  throw new MountError(v.name, `PersistentVolume "${pv.metadata.name}" has no volume source tug can mount (it mounts hostPath and local volumes)`);
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
    // Rewritten at every sync from the API's objects: no fsync (atomic-file.ts, durable);
    // a file in a subdirectory makes it (writeFileAtomic, at its first write).
    await writeFileAtomic(p, data, 0o644, { durable: false });
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
