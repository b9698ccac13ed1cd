// The Node authorizer (kube-apiserver's --authorization-mode=Node): what a node
// agent (user system:node:<name> in group system:nodes) may do, narrowed to
// its own node. It reads the Services, Endpoints, EndpointSlices, Nodes and
// Pods every node's proxy, DNS and pod sync need; it reads only the Secrets,
// ConfigMaps, PersistentVolumeClaims and PersistentVolumes, and asks tokens
// only for the ServiceAccounts, that pods bound to it use; it writes its own
// Node, Node status and Lease, pods' status, events and CSRs, and asks
// TokenReviews and SubjectAccessReviews (delegated auth of its own endpoint).
// What it allows broadly (creating pods and Nodes, deleting pods, pods'
// status) NodeRestriction admission narrows per object (node-restriction.ts).
// Anything else is "no opinion": RBAC decides next, and grants nodes nothing.
//
// A list or watch pinned to one name (fieldSelector metadata.name=X) comes
// here with that name, as kube-apiserver's request info gives it: a node may
// watch a Secret or ConfigMap its pods use (the agent's watch-based cache of
// them, pod-source-cache.ts), never list a namespace's.
//
// Kubernetes keeps a graph of pods and what they use, updated by informers;
// so does this one (node-pod-graph.ts). What the graph does not show (a pod
// bound a moment ago whose watch event is still on its way, or before the
// graph's first list) is looked up in the store: the pods bound to the node in
// the object's namespace (a field-selected list). A refusal always comes from
// the store, never from a graph that is behind.
//
// tug's own additions, each as narrow: a node reads and writes its node
// password Secret (kube-system/<node>.node-password.tug) and reads the cluster
// network ConfigMap (kube-system/tug-network); it creates the cluster DNS
// Service and Endpoints (kube-system/kube-dns) where none exist yet, as the
// first node of a cluster without its own does, but never changes them; it
// lists PersistentVolumes and
// updates those the local-path provisioner made on it (their directories are
// the agent's to make and remove, local-volumes.ts).
import type { ObjectStore } from './object-store.js';
import type { KObject } from '../kube/api/resource-type.js';
import type { UserInfo } from './user-info.js';
import type { Attributes, Authorizer, Decision } from './authorizer.js';
import { podReferences, type PodReferences } from '../kube/api/pod-references.js';
import { CLUSTER_NETWORK_CONFIGMAP, nodeNameOf, nodePasswordSecretName } from '../kube/api/node-identity.js';
import { LOCAL_PATH_PROVISIONER, PROVISIONED_BY, volumeHostnames } from '../kube/api/storage.js';
import type { NodePodGraph } from './node-pod-graph.js';

const reads = new Set(['get', 'list', 'watch']);
const writes = new Set(['update', 'patch']);

export class NodeAuthorizer implements Authorizer {
  constructor(
    private readonly objects: ObjectStore,
    private readonly graph?: NodePodGraph,
  ) {}

  async authorize(u: UserInfo, a: Attributes): Promise<Decision> {
    const node = nodeNameOf(u);
    if (!node || a.path !== undefined) return { allowed: false, reason: '' };
    if (await this.allows(node, a)) return { allowed: true, reason: `Node: allowed for node "${node}"` };
    return { allowed: false, reason: `no relationship found between node '${node}' and this object` };
  }

  private async allows(node: string, a: Attributes): Promise<boolean> {
    const { verb, group, resource, subresource: sub, namespace: ns, name } = a;
    const read = reads.has(verb);
    switch (`${group}/${resource}`) {
      case '/nodes':
        // Creating another node's Node is refused by NodeRestriction (a create has no name here).
        if (!sub) return read || verb === 'create' || (writes.has(verb) && name === node);
        return sub === 'status' && (verb === 'get' || writes.has(verb)) && name === node;
      case '/pods':
        // NodeRestriction: creates only of mirror pods bound to the node, deletes and status writes only of its own pods.
        if (!sub) return read || verb === 'create' || verb === 'delete';
        if (sub === 'status') return verb === 'get' || writes.has(verb);
        return sub === 'eviction' && verb === 'create';
      case '/services':
      case '/endpoints':
        // Creating kube-system/kube-dns where it is missing (NodeRestriction holds creates to that name).
        return !sub && (read || (verb === 'create' && ns === 'kube-system'));
      case 'discovery.k8s.io/endpointslices':
        return !sub && read;
      case '/events':
      case 'events.k8s.io/events':
        return !sub && (verb === 'create' || writes.has(verb));
      case '/secrets':
        if (sub || !ns) return false;
        if (ns === 'kube-system' && (verb === 'create' || ((verb === 'get' || writes.has(verb)) && name === nodePasswordSecretName(node)))) return true;
        // get, or a list or watch of that one name (the agent watches what its pods use, as the kubelet does).
        return read && !!name && (await this.used(node, ns, (r) => r.secrets.has(name)));
      case '/configmaps':
        if (sub || !ns || !read || !name) return false;
        if (ns === 'kube-system' && name === CLUSTER_NETWORK_CONFIGMAP) return true;
        return this.used(node, ns, (r) => r.configMaps.has(name));
      case '/persistentvolumeclaims':
        return !sub && verb === 'get' && !!ns && !!name && (await this.used(node, ns, (r) => r.claims.has(name)));
      case '/persistentvolumes':
        if (sub) return false;
        if (verb === 'list' || verb === 'watch') return true;
        if (!name || (verb !== 'get' && !writes.has(verb))) return false;
        return this.volumeAllowed(node, name, verb === 'get');
      case '/serviceaccounts':
        return sub === 'token' && verb === 'create' && !!ns && !!name && (await this.used(node, ns, (r) => r.serviceAccount === name));
      case 'coordination.k8s.io/leases':
        // A create has no name here: NodeRestriction holds it to the node's own.
        return !sub && ns === 'kube-node-lease' && (verb === 'create' || ((verb === 'get' || verb === 'delete' || writes.has(verb)) && name === node));
      case 'certificates.k8s.io/certificatesigningrequests':
        return !sub && (verb === 'create' || read);
      case 'authentication.k8s.io/tokenreviews':
      case 'authorization.k8s.io/subjectaccessreviews':
        return verb === 'create';
      default:
        return false;
    }
  }

  /** Whether a pod bound to the node in `ns` uses what `test` looks for. */
  private async used(node: string, ns: string, test: (r: PodReferences) => boolean): Promise<boolean> {
    if (this.graph?.podsOn(node, ns)?.some(test)) return true;
    return (await this.podsOn(node, ns)).some((p) => test(podReferences(p)));
  }

  private async podsOn(node: string, ns: string | undefined): Promise<KObject[]> {
    const podType = this.objects.registry.lookup('', 'v1', 'pods')!;
    return (await this.objects.list(podType, ns, { fieldSelector: `spec.nodeName=${node}` })).items;
  }

  /** A volume bound to a claim of a pod on the node (read), or a local-path volume made on the node (read and write). */
  private async volumeAllowed(node: string, name: string, readOnly: boolean): Promise<boolean> {
    const pvType = this.objects.registry.lookup('', 'v1', 'persistentvolumes')!;
    const pv = await this.objects.getOrNull(pvType, undefined, name);
    if (pv && pv.metadata?.annotations?.[PROVISIONED_BY] === LOCAL_PATH_PROVISIONER && volumeHostnames(pv).includes(node)) return true;
    if (!readOnly) return false;
    const pvcType = this.objects.registry.lookup('', 'v1', 'persistentvolumeclaims')!;
    const boundTo = async (claims: { namespace?: string; claim: string }[]) => {
      for (const c of claims) if ((await this.objects.getOrNull(pvcType, c.namespace, c.claim))?.spec?.volumeName === name) return true;
      return false;
    };
    if (await boundTo(this.graph?.claimsOn(node) ?? [])) return true;
    const pods = await this.podsOn(node, undefined);
    return boundTo(pods.flatMap((pod) => [...podReferences(pod).claims].map((claim) => ({ namespace: pod.metadata?.namespace, claim }))));
  }
}
