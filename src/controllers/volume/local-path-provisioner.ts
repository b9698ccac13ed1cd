// tug's own dynamic provisioner for the `local-path` StorageClass (what k3s
// ships as Rancher's local-path-provisioner): for a claim the PV controller
// handed to provisioner tug.io/local-path and the scheduler gave a node
// (volume.kubernetes.io/selected-node), it makes a PersistentVolume pvc-<uid>
// with a hostPath under that node's local-path directory (one directory per
// volume, <dir>/pvc-<uid>_<namespace>_<name>), node affinity to that node and
// a claimRef to the claim, so the PV controller binds the two. The directory
// itself is made and removed by that node's agent (node/agent/local-volumes.ts),
// the only thing that touches the node's filesystem; the tug.io/local-path-cleanup
// finalizer keeps the PV until it has. Idempotent: the PV's name is the claim's uid.
import { posix } from 'node:path';
import type { KubeApi, KubeObject } from '../../kube/client/kube-client.js';
import { keyOf } from '../../kube/client/informer.js';
import { WorkQueue } from '../../kube/client/work-queue.js';
import { isKind, messageOf } from '../../errdefs.js';
import { refs, type SharedInformers } from '../../kube/client/shared-informers.js';
import { LOCAL_PATH_CLEANUP, LOCAL_PATH_PROVISIONER, NODE_LOCAL_PATH_DIR, PROVISIONED_BY, SELECTED_NODE, STORAGE_PROVISIONER, claimClass } from '../../kube/api/storage.js';
import { storageRefs } from './storage-refs.js';
import { VolumeEvents } from './volume-events.js';

const supportedModes = new Set(['ReadWriteOnce', 'ReadWriteOncePod']);

export class LocalPathProvisioner {
  readonly queue = new WorkQueue({ name: 'local_path_provisioner', baseDelayMs: 500, maxDelayMs: 30_000 });
  private readonly events: VolumeEvents;

  constructor(
    private readonly informers: SharedInformers,
    private readonly client: KubeApi,
  ) {
    this.events = new VolumeEvents(client, `${LOCAL_PATH_PROVISIONER}_tug`);
    const claim = (c: KubeObject) => this.queue.add(keyOf(c));
    informers.for(storageRefs.pvcs).addHandlers({ onAdd: claim, onUpdate: claim });
    informers.for(storageRefs.pvs).addHandlers({});
    informers.for(storageRefs.classes).addHandlers({});
    // A node that registers (or gets its directory annotation) after the claim chose it.
    informers.for(refs.nodes).addHandlers({
      onAdd: (n) => {
        for (const c of this.informers.for(storageRefs.pvcs).list()) if (c.metadata.annotations?.[SELECTED_NODE] === n.metadata.name && !c.spec?.volumeName) claim(c);
      },
    });
  }

  run(workers = 1): void {
    void this.queue.run((k) => this.reconcile(k), workers, (k, err) => {
      if (!isKind(err, 'conflict')) process.stderr.write(`local-path-provisioner: ${k}: ${messageOf(err)}\n`);
    });
  }

  stop(): void {
    this.queue.shutdown();
  }

  async reconcile(key: string): Promise<void> {
    const pvc = this.informers.for(storageRefs.pvcs).get(key);
    if (!pvc || pvc.metadata.deletionTimestamp || pvc.spec?.volumeName) return;
    if (pvc.metadata.annotations?.[STORAGE_PROVISIONER] !== LOCAL_PATH_PROVISIONER) return;
    const clsName = claimClass(pvc) ?? '';
    const sc = this.informers.for(storageRefs.classes).get(clsName);
    if (sc?.provisioner !== LOCAL_PATH_PROVISIONER) return;
    const pvName = `pvc-${pvc.metadata.uid}`;
    if (this.informers.for(storageRefs.pvs).get(pvName)) return; // made; the PV controller binds it
    const fail = (msg: string): void => this.events.emit('PersistentVolumeClaim', pvc, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${clsName}": ${msg}`);
    const nodeName = pvc.metadata.annotations?.[SELECTED_NODE];
    if (!nodeName) return fail('configuration error, no node was specified');
    const node = this.informers.for(refs.nodes).get(nodeName);
    if (!node) return fail(`node "${nodeName}" not found`);
    const dir = node.metadata.annotations?.[NODE_LOCAL_PATH_DIR];
    if (!dir || !posix.isAbsolute(dir)) return fail(`node "${nodeName}" has no local-path directory (annotation ${NODE_LOCAL_PATH_DIR}): is it a tug agent?`);
    const modes: string[] = pvc.spec?.accessModes ?? [];
    if (!modes.length || modes.some((m) => !supportedModes.has(m))) return fail('NodePath only supports ReadWriteOnce and ReadWriteOncePod access modes');
    if ((pvc.spec?.volumeMode ?? 'Filesystem') !== 'Filesystem') return fail(`volumeMode ${String(pvc.spec.volumeMode)} is not supported, only Filesystem`);
    const ns = pvc.metadata.namespace!;
    this.events.emit('PersistentVolumeClaim', pvc, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${ns}/${pvc.metadata.name}"`);
    const pv = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: pvName, annotations: { [PROVISIONED_BY]: LOCAL_PATH_PROVISIONER, [SELECTED_NODE]: nodeName }, finalizers: [LOCAL_PATH_CLEANUP] },
      spec: {
        capacity: { storage: pvc.spec?.resources?.requests?.storage ?? '0' },
        accessModes: modes,
        persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
        storageClassName: clsName,
        volumeMode: 'Filesystem',
        ...(sc.mountOptions ? { mountOptions: sc.mountOptions } : {}),
        hostPath: { path: posix.join(dir, `${pvName}_${ns}_${pvc.metadata.name}`), type: 'DirectoryOrCreate' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [nodeName] }] }] } },
        claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: ns, name: pvc.metadata.name, uid: pvc.metadata.uid, resourceVersion: pvc.metadata.resourceVersion },
      },
    };
    try {
      await this.client.create(storageRefs.pvs, pv);
    } catch (err) {
      if (isKind(err, 'already-exists')) return;
      fail(messageOf(err));
      throw err;
    }
    this.events.emit('PersistentVolumeClaim', pvc, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`);
  }
}
