// Fills in the boring parts of a ResourceType so each type file states only
// what is particular to it.
import { allVerbs, type ResourceType } from './resource-type.js';
import { nameColumn, ageColumn } from './meta.js';

type Required = Pick<ResourceType, 'group' | 'version' | 'kind' | 'plural' | 'namespaced' | 'schema' | 'schemaName'>;

export function defineType(t: Required & Partial<ResourceType>): ResourceType {
  return {
    listKind: `${t.kind}List`,
    singular: t.kind.toLowerCase(),
    shortNames: [],
    categories: [],
    hasSpec: true,
    status: false,
    verbs: allVerbs,
    columns: [nameColumn, ageColumn],
    ...t,
  };
}

/** "x/y" when the list is non-empty, used by READY columns. */
export function ratio(a: number | undefined, b: number | undefined): string {
  return `${a ?? 0}/${b ?? 0}`;
}
