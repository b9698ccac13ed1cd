// Admission for storage objects, as kube-apiserver's DefaultStorageClass and
// StorageObjectInUseProtection plugins: a claim that does not name a class
// (storageClassName unset; "" means "no class" and is left alone) gets the
// default StorageClass, and claims and volumes are made with the
// kubernetes.io/pvc-protection / pv-protection finalizers, which the PV
// controller removes once nothing uses them.
import type { KObject, ResourceType } from '../kube/api/resource-type.js';
import { BETA_STORAGE_CLASS, PV_PROTECTION, PVC_PROTECTION, isDefaultClass } from '../kube/api/storage.js';
import type { ObjectStore } from './object-store.js';

export class StorageAdmission {
  constructor(private readonly objects: ObjectStore) {}

  async admit(t: ResourceType, o: KObject): Promise<void> {
    if (t.group !== '') return;
    if (t.kind === 'PersistentVolumeClaim') {
      await this.defaultClass(o);
      addFinalizer(o, PVC_PROTECTION);
    } else if (t.kind === 'PersistentVolume') addFinalizer(o, PV_PROTECTION);
  }

  private async defaultClass(o: KObject): Promise<void> {
    if (o.spec?.storageClassName !== undefined && o.spec?.storageClassName !== null) return;
    if (o.metadata?.annotations?.[BETA_STORAGE_CLASS] !== undefined) return;
    const scType = this.objects.registry.lookup('storage.k8s.io', 'v1', 'storageclasses');
    if (!scType) return;
    const defaults = (await this.objects.list(scType, undefined)).items.filter(isDefaultClass);
    if (!defaults.length) return;
    // Several defaults: the newest wins (as Kubernetes does since 1.26), ties by name.
    defaults.sort((a, b) => String(b.metadata?.creationTimestamp).localeCompare(String(a.metadata?.creationTimestamp)) || String(a.metadata?.name).localeCompare(String(b.metadata?.name)));
    o.spec ??= {};
    o.spec.storageClassName = defaults[0].metadata!.name;
  }
}

function addFinalizer(o: KObject, f: string): void {
  const meta = (o.metadata ??= {});
  const list = meta.finalizers ?? [];
  if (!list.includes(f)) meta.finalizers = [...list, f];
}
