// Who may look inside an engine root (`tug daemon --root`, default /var/lib/tug).
// The modes are Docker's: the root and the dirs containers are reached through
// are 0710 (root and its group pass through, nobody else), state nobody but
// the daemon reads is 0700, the volumes dir 0701 (moby's local volume driver).
// Records that carry a container's environment are 0600 (container-store.ts,
// the runtime bundle). Applied on every start, so a root made by an older tug
// (0755 everywhere) is tightened too, as dockerd chmods its root at start-up.
//
// Containers are unaffected: runc mounts the rootfs, volumes and bind mounts
// as root before the container's process starts, and that process reaches them
// from inside its own root, never through these host paths.
import { join } from 'node:path';
import { chmodIfExists, ensureDir } from '../util/dir-mode.js';

export const ENGINE_ROOT_MODE = 0o710;

/** Top-level dirs under the root and their modes. */
export const ENGINE_DIR_MODES: Readonly<Record<string, number>> = {
  containers: 0o710,
  // Each container's upper/work/merged (snapshot/container-layer.ts tightens its own dir).
  'containers-fs': 0o710,
  // Blobs, unpacked layers (overlay lower dirs) and image configs, whose ENV may hold secrets.
  images: 0o700,
  volumes: 0o701,
  network: 0o700,
  build: 0o700,
  'registry-downloads': 0o700,
};

/** The runtime state dir (runc's root, conmon's bundle copies of config.json): root only. */
export const RUNTIME_STATE_MODE = 0o700;

export async function secureEngineRoot(root: string): Promise<void> {
  await ensureDir(root, ENGINE_ROOT_MODE);
  await Promise.all(Object.entries(ENGINE_DIR_MODES).map(([name, mode]) => ensureDir(join(root, name), mode)));
  // The state dir of an engine made before it moved to tmpfs (engine/run-dir.ts).
  await chmodIfExists(join(root, 'runtime'), RUNTIME_STATE_MODE);
}
