// The storage collections the volume controllers, the provisioner and the scheduler watch.
import type { ResourceRef } from '../../kube/client/kube-client.js';

export const storageRefs = {
  pvs: { group: '', version: 'v1', resource: 'persistentvolumes' },
  pvcs: { group: '', version: 'v1', resource: 'persistentvolumeclaims' },
  classes: { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' },
} satisfies Record<string, ResourceRef>;
