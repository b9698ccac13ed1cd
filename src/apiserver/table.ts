// Server-side printing: meta.k8s.io/v1 Table responses, the columns kubectl
// shows for `get` (priority 1 columns only appear with -o wide).
import type { KObject, ResourceType } from '../kube/api/resource-type.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

function partial(o: KObject): KObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

export function toTable(t: ResourceType, items: KObject[], include: IncludeObject, listMeta: Record<string, unknown> = {}): KObject {
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: t.columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description, priority: c.priority })),
    rows: items.map((o) => ({
      cells: t.columns.map((c) => {
        try {
          return c.cell(o, now);
        } catch {
          return '<unknown>';
        }
      }),
      object: include === 'None' ? undefined : include === 'Object' ? o : partial(o),
    })),
  };
}

/** Does the Accept header ask for a Table (as=Table;g=meta.k8s.io;v=v1)? */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const params = part.split(';').map((p) => p.trim());
    return params.includes('as=Table') && params.some((p) => p === 'g=meta.k8s.io') && params.some((p) => p === 'v=v1' || p === 'v=v1beta1');
  });
}

/** The first Accept alternative wins; fall through to JSON. */
export function wantsPartialMetadata(accept: string | undefined): 'object' | 'list' | undefined {
  if (!accept) return undefined;
  const first = accept.split(',')[0];
  if (first.includes('as=PartialObjectMetadataList')) return 'list';
  if (first.includes('as=PartialObjectMetadata')) return 'object';
  return undefined;
}
