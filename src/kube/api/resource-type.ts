// The descriptor that drives the generic REST machinery: everything the API
// server needs to know about one resource type lives in one of these.
import type { Schema } from './schema.js';

export type KObject = Record<string, any> & {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
};

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  [k: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface FieldError {
  /** Kubernetes field path, e.g. spec.containers[0].image */
  field: string;
  /** FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, FieldValueDuplicate, FieldValueForbidden */
  type: string;
  message: string;
}

export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description: string;
  /** 0 = always shown, 1 = only with -o wide */
  priority: number;
  cell(obj: KObject, now: number): string | number | boolean;
}

export interface ScaleSpec {
  specReplicasPath: string;
  statusReplicasPath: string;
  /** Where the selector lives, rendered as a label-selector string in Scale.status.selector. */
  selectorPath?: string;
}

/** Context handed to type hooks that need cluster state (IP allocation...). */
export interface TypeHooks {
  /** Runs before validation on create (e.g. clusterIP/nodePort allocation). */
  beforeCreate?(obj: KObject): Promise<void>;
  /** Runs before validation on update with the stored object. */
  beforeUpdate?(obj: KObject, old: KObject): Promise<void>;
  /** Runs after the object is gone (release allocations). */
  afterDelete?(obj: KObject): Promise<void>;
}

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  /** Name of the schema definition (e.g. io.k8s.api.apps.v1.Deployment). */
  schemaName: string;
  schema: Schema;
  /** Kinds whose spec changes bump metadata.generation. */
  hasSpec: boolean;
  status: boolean;
  scale?: ScaleSpec;
  verbs: string[];
  defaults?(obj: KObject): void;
  validate?(obj: KObject, old?: KObject): FieldError[];
  columns: TableColumn[];
  /** Conversion for a version that shares storage with another (autoscaling/v1 over v2's stored form). */
  fromStorage?(stored: KObject): KObject;
  toStorage?(obj: KObject): KObject;
  /** Storage name when the plural alone could collide (custom resources: "<group>/<plural>"). */
  storageResource?: string;
  /** Extra field selectors beyond metadata.name / metadata.namespace. */
  fieldSelectors?: Record<string, (obj: KObject) => string | undefined>;
}

export const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function apiVersionOf(t: { group: string; version: string }): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

export function fieldError(field: string, type: string, message: string): FieldError {
  return { field, type, message };
}
