// certificates.k8s.io/v1 CertificateSigningRequest: a PEM PKCS#10 request, the
// signer it is meant for, the usages and lifetime asked for. Who asked
// (spec.username/uid/groups) is stamped by the API server on create; approval
// (status.conditions Approved/Denied) goes through the /approval subresource,
// the certificate (status.certificate) through /status, as in Kubernetes.
// Validation errors use Kubernetes' field paths and words.
import { str, int, arr, obj } from './schema.js';
import { kindSchema, nameColumn, ageColumn, col, humanDuration } from './meta.js';
import { defineType } from './define-type.js';
import type { FieldError, KObject } from './resource-type.js';
import { knownKeyUsages, parseCsrPem } from '../pki/x509.js';

export const KUBE_APISERVER_CLIENT_KUBELET = 'kubernetes.io/kube-apiserver-client-kubelet';
export const KUBE_APISERVER_CLIENT = 'kubernetes.io/kube-apiserver-client';
export const KUBELET_SERVING = 'kubernetes.io/kubelet-serving';
export const LEGACY_UNKNOWN = 'kubernetes.io/legacy-unknown';
/** Signers this cluster's signer controller issues for. */
export const knownSigners: readonly string[] = [KUBE_APISERVER_CLIENT_KUBELET, KUBE_APISERVER_CLIENT, KUBELET_SERVING];
/** Kubernetes' minimum spec.expirationSeconds. */
export const MIN_EXPIRATION_SECONDS = 600;

const condition = obj({ type: str(), status: str(), reason: str(), message: str(), lastUpdateTime: str(), lastTransitionTime: str() }, { required: ['type', 'status'] });

interface Condition {
  type?: string;
  status?: string;
}

const conditionsOf = (o: KObject): Condition[] => (Array.isArray(o.status?.conditions) ? o.status.conditions : []);
const has = (o: KObject, type: string) => conditionsOf(o).some((c) => c.type === type && c.status === 'True');
export const isApproved = (o: KObject): boolean => has(o, 'Approved');
export const isDenied = (o: KObject): boolean => has(o, 'Denied');
export const isFailed = (o: KObject): boolean => has(o, 'Failed');

/** kubectl's CONDITION column: Approved,Issued / Denied / Pending / Failed. */
export function csrCondition(o: KObject): string {
  const parts = conditionsOf(o).filter((c) => c.status === 'True' || c.status === undefined).map((c) => c.type ?? '');
  if (!parts.length) parts.push('Pending');
  if (o.status?.certificate) parts.push('Issued');
  return parts.join(',');
}

const signerNameRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function validateSpec(o: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = o.spec ?? {};
  if (!spec.request) errs.push({ field: 'spec.request', type: 'FieldValueRequired', message: 'Required value' });
  else {
    try {
      parseCsrPem(Buffer.from(String(spec.request), 'base64').toString());
    } catch (err) {
      errs.push({ field: 'spec.request', type: 'FieldValueInvalid', message: `Invalid value: []byte{...}: ${(err as Error).message}` });
    }
  }
  if (!spec.signerName) errs.push({ field: 'spec.signerName', type: 'FieldValueRequired', message: 'Required value' });
  else if (!signerNameRe.test(spec.signerName) || spec.signerName.length > 571) {
    errs.push({ field: 'spec.signerName', type: 'FieldValueInvalid', message: `Invalid value: "${spec.signerName}": must be a fully qualified domain and path of the form 'example.com/signer-name'` });
  }
  const usages: unknown[] = Array.isArray(spec.usages) ? spec.usages : [];
  if (!usages.length) errs.push({ field: 'spec.usages', type: 'FieldValueRequired', message: 'Required value' });
  const seen = new Set<unknown>();
  usages.forEach((u, i) => {
    if (!knownKeyUsages.includes(String(u))) errs.push({ field: `spec.usages[${i}]`, type: 'FieldValueNotSupported', message: `Unsupported value: "${String(u)}": supported values: ${knownKeyUsages.map((k) => `"${k}"`).join(', ')}` });
    else if (seen.has(u)) errs.push({ field: `spec.usages[${i}]`, type: 'FieldValueDuplicate', message: `Duplicate value: "${String(u)}"` });
    seen.add(u);
  });
  if (spec.expirationSeconds !== undefined && !(Number.isInteger(spec.expirationSeconds) && spec.expirationSeconds >= MIN_EXPIRATION_SECONDS)) {
    errs.push({ field: 'spec.expirationSeconds', type: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(spec.expirationSeconds)}: may not specify a duration less than 600 seconds (10 minutes)` });
  }
  return errs;
}

function validateStatus(o: KObject, old?: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  conditionsOf(o).forEach((c, i) => {
    if (!c.type) errs.push({ field: `status.conditions[${i}].type`, type: 'FieldValueRequired', message: 'Required value' });
    else if (seen.has(c.type) && ['Approved', 'Denied', 'Failed'].includes(c.type)) errs.push({ field: `status.conditions[${i}].type`, type: 'FieldValueDuplicate', message: `Duplicate value: "${c.type}"` });
    if (c.type) seen.add(c.type);
    if (c.status !== undefined && !['True', 'False', 'Unknown'].includes(c.status)) {
      errs.push({ field: `status.conditions[${i}].status`, type: 'FieldValueNotSupported', message: `Unsupported value: "${c.status}": supported values: "False", "True", "Unknown"` });
    }
  });
  if (isApproved(o) && isDenied(o)) errs.push({ field: 'status.conditions', type: 'FieldValueInvalid', message: 'Invalid value: "Approved": Approved and Denied conditions are mutually exclusive' });
  if (old) {
    for (const type of ['Approved', 'Denied']) {
      if (has(old, type) && !has(o, type)) errs.push({ field: 'status.conditions', type: 'FieldValueForbidden', message: `Forbidden: updates may not remove a condition of type "${type}"` });
    }
  }
  const cert = o.status?.certificate;
  if (cert) {
    if (!isApproved(o)) errs.push({ field: 'status.certificate', type: 'FieldValueInvalid', message: 'Invalid value: "<certificate data>": certificate can only be set once the request is approved' });
    const text = Buffer.from(String(cert), 'base64').toString();
    if (!text.includes('-----BEGIN CERTIFICATE-----')) errs.push({ field: 'status.certificate', type: 'FieldValueInvalid', message: 'Invalid value: "<certificate data>": must contain at least one CERTIFICATE PEM block' });
    if (old?.status?.certificate && old.status.certificate !== cert) errs.push({ field: 'status.certificate', type: 'FieldValueForbidden', message: 'Forbidden: updates may not modify existing certificate content' });
  }
  return errs;
}

export function validateCsr(o: KObject, old?: KObject): FieldError[] {
  const errs = validateSpec(o);
  if (old && JSON.stringify(o.spec ?? {}) !== JSON.stringify(old.spec ?? {})) errs.push({ field: 'spec', type: 'FieldValueForbidden', message: 'Forbidden: field is immutable' });
  errs.push(...validateStatus(o, old));
  return errs;
}

export const csrType = defineType({
  group: 'certificates.k8s.io',
  version: 'v1',
  kind: 'CertificateSigningRequest',
  schemaName: 'io.k8s.api.certificates.v1.CertificateSigningRequest',
  schema: kindSchema(
    'io.k8s.api.certificates.v1.CertificateSigningRequest',
    { group: 'certificates.k8s.io', version: 'v1', kind: 'CertificateSigningRequest' },
    'CertificateSigningRequest objects provide a mechanism to obtain x509 certificates by submitting a certificate signing request, and having it asynchronously approved and issued.',
    {
      spec: obj(
        {
          request: str('request contains an x509 certificate signing request encoded in a "CERTIFICATE REQUEST" PEM block.'),
          signerName: str('signerName indicates the requested signer, and is a qualified name.'),
          expirationSeconds: int('expirationSeconds is the requested duration of validity of the issued certificate.'),
          usages: arr(str()),
          username: str(),
          uid: str(),
          groups: arr(str()),
          extra: { type: 'object', additionalProperties: arr(str()) },
        },
        { required: ['request', 'signerName'] },
      ),
      status: obj({ conditions: arr(condition), certificate: str() }),
    },
  ),
  plural: 'certificatesigningrequests',
  shortNames: ['csr'],
  namespaced: false,
  status: true,
  defaults: (o) => {
    if (o.spec && o.spec.usages === undefined) o.spec.usages = ['digital signature', 'key encipherment'];
  },
  validate: validateCsr,
  columns: [
    nameColumn,
    ageColumn,
    col('SignerName', (o) => o.spec?.signerName ?? ''),
    col('Requestor', (o) => o.spec?.username ?? ''),
    col('RequestedDuration', (o) => (o.spec?.expirationSeconds ? humanDuration(o.spec.expirationSeconds * 1000) : '<none>')),
    col('Condition', (o) => csrCondition(o)),
  ],
});
