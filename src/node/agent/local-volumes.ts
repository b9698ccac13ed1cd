// The node side of tug's local-path provisioner: this agent is the only thing
// that touches its node's filesystem, so it makes the directory of every
// local-path PersistentVolume provisioned onto this node (0777, as Rancher's
// local-path-provisioner makes them, so a container running as any user can
// write), and when such a volume is deleted it removes the directory and then
// the tug.io/local-path-cleanup finalizer, which lets the PV object go.
// Only paths directly inside this agent's own local-path directory are ever
// made or removed, whatever a PV says; a Retain volume's directory is kept
// when its PV object is deleted. Level-triggered: PV informer -> queue
// -> reconcile(name); a directory removed while the agent was down is removed
// on the informer's first list after the restart.
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { KubeClient, KubeObject } from '../../kube/client/kube-client.js';
import { Informer } from '../../kube/client/informer.js';
import { WorkQueue } from '../../kube/client/work-queue.js';
import { messageOf, TugError } from '../../errdefs.js';
import { LOCAL_PATH_CLEANUP, LOCAL_PATH_PROVISIONER, PROVISIONED_BY, PV_PROTECTION, volumeHostnames } from '../../kube/api/storage.js';

const pvsRef = { group: '', version: 'v1', resource: 'persistentvolumes' };

/** Where an agent keeps its local-path volumes (advertised on its Node as tug.io/local-path-dir). */
export function localPathDir(dataDir: string): string {
  return join(resolve(dataDir), 'storage');
}

/** The PV's directory if it is a local-path volume of this node inside `root`, else undefined. */
export function ownLocalPath(pv: KubeObject, nodeName: string, root: string): string | undefined {
  if (pv.metadata.annotations?.[PROVISIONED_BY] !== LOCAL_PATH_PROVISIONER) return undefined;
  if (!volumeHostnames(pv).includes(nodeName)) return undefined;
  const p = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
  if (typeof p !== 'string' || !p.startsWith('/')) return undefined;
  const clean = resolve(p);
  return dirname(clean) === root && clean !== root ? clean : undefined;
}

export class LocalVolumes {
  private readonly informer: Informer;
  private readonly queue = new WorkQueue({ baseDelayMs: 500, maxDelayMs: 30_000 });
  private workers?: Promise<void[]>;
  readonly root: string;

  constructor(
    private readonly client: KubeClient,
    dataDir: string,
    private readonly nodeName: string,
    private readonly log: (msg: string) => void,
  ) {
    this.root = localPathDir(dataDir);
    this.informer = new Informer(client, pvsRef, { resyncMs: 60_000 });
    const add = (pv: KubeObject) => this.queue.add(pv.metadata.name!);
    this.informer.addHandlers({ onAdd: add, onUpdate: add });
  }

  async start(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o711 });
    // Pods do not wait for this list: a pod's own volume is made by ensure() when it is mounted.
    void this.informer.start().catch((err) => this.log(`persistent volumes: ${messageOf(err)}`));
    this.workers = this.queue.run((name) => this.reconcile(name), 1, (name, err) => this.log(`persistent volume ${name}: ${messageOf(err)}`));
  }

  async stop(): Promise<void> {
    this.informer.stop();
    this.queue.shutdown();
    await this.workers?.catch(() => undefined);
  }

  /** Makes the directory of a volume of this node now (the pod using it may be synced before the informer sees the PV). */
  async ensure(pv: KubeObject): Promise<string | undefined> {
    const dir = ownLocalPath(pv, this.nodeName, this.root);
    if (!dir || pv.metadata.deletionTimestamp) return dir;
    const st = await stat(dir).catch(() => undefined);
    if (!st) {
      await mkdir(dir, { recursive: true });
      await chmod(dir, 0o777);
    } else if (!st.isDirectory()) throw new TugError('invalid', `local-path volume ${pv.metadata.name}: ${dir} is not a directory`);
    return dir;
  }

  private async reconcile(name: string): Promise<void> {
    const pv = this.informer.get(name);
    if (!pv) return;
    const dir = ownLocalPath(pv, this.nodeName, this.root);
    if (!dir) return;
    if (!pv.metadata.deletionTimestamp) {
      await this.ensure(pv);
      return;
    }
    const finalizers = (pv.metadata.finalizers as string[] | undefined) ?? [];
    // Not while a claim still holds it (pv-protection goes when the PV is no longer Bound).
    if (!finalizers.includes(LOCAL_PATH_CLEANUP) || finalizers.includes(PV_PROTECTION)) return;
    // Retain: the administrator deleted the PV object and keeps the data.
    if ((pv.spec?.persistentVolumeReclaimPolicy ?? 'Delete') === 'Delete') {
      await rm(dir, { recursive: true, force: true });
      this.log(`removed local-path volume ${name} (${dir})`);
    }
    try {
      await this.client.patch(pvsRef, name, { metadata: { resourceVersion: pv.metadata.resourceVersion, finalizers: finalizers.filter((f) => f !== LOCAL_PATH_CLEANUP) } });
    } catch (err) {
      if (!(err instanceof TugError && err.kind === 'not-found')) throw err;
    }
  }
}
