// PKCS#10 requests and X.509 certificates for TLS bootstrapping, through
// @peculiar/x509 (WebCrypto underneath): a node makes an EC P-256 key and a
// request naming itself, the cluster's signer turns an approved request into
// a certificate signed by the cluster CA. The CA itself and the server's own
// certificates are still made by the openssl CLI (apiserver/pki.ts); both
// write PKCS#8 PEM keys, so either side reads the other's.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, createPublicKey, randomBytes, webcrypto } from 'node:crypto';
import { invalid } from '../../errdefs.js';

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const subtle = webcrypto.subtle;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** A fresh EC P-256 private key as PKCS#8 PEM. */
export async function newPrivateKeyPem(): Promise<string> {
  const keys = await subtle.generateKey(EC, true, ['sign', 'verify']);
  const der = await subtle.exportKey('pkcs8', keys.privateKey);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** The WebCrypto key pair of a PKCS#8 EC P-256 PEM (openssl genpkey's or newPrivateKeyPem's). */
async function keyPair(pem: string): Promise<CryptoKeyPair> {
  const priv = createPrivateKey(pem);
  const pkcs8 = priv.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(priv).export({ type: 'spki', format: 'der' });
  const privateKey = await subtle.importKey('pkcs8', pkcs8, EC, false, ['sign']);
  const publicKey = await subtle.importKey('spki', spki, EC, true, ['verify']);
  return { privateKey, publicKey };
}

export interface SubjectRequest {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
}

/** A PEM CERTIFICATE REQUEST for `subject`, signed with the PKCS#8 key. */
export async function createCsrPem(keyPem: string, subject: SubjectRequest): Promise<string> {
  const keys = await keyPair(keyPem);
  const name = [...(subject.organizations ?? []).map((o) => ({ O: [o] })), { CN: [subject.commonName] }];
  const sans = [...(subject.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })), ...(subject.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value }))];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name, keys, signingAlgorithm: EC, extensions: sans.length ? [new x509.SubjectAlternativeNameExtension(sans)] : [] });
  return csr.toString('pem');
}

export interface ParsedCsr {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  emailAddresses: string[];
  uris: string[];
  /** Whether the request is signed by the key it carries (proof of possession). */
  verifySignature(): Promise<boolean>;
  raw: x509.Pkcs10CertificateRequest;
}

const SAN_OID = '2.5.29.17';

/** Parses one PEM CERTIFICATE REQUEST; throws invalid with `what` went wrong. */
export function parseCsrPem(pem: string): ParsedCsr {
  const blocks = pem.match(/-----BEGIN ([A-Z0-9 ]+)-----/g) ?? [];
  if (blocks.length !== 1 || !blocks[0]!.includes('CERTIFICATE REQUEST')) throw invalid('PEM block type must be CERTIFICATE REQUEST');
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch (err) {
    throw invalid(`invalid certificate request: ${(err as Error).message}`);
  }
  const sanExt = csr.extensions.find((e) => e.type === SAN_OID);
  const names = sanExt ? new x509.SubjectAlternativeNameExtension(sanExt.rawData).names.toJSON() : [];
  const of = (type: string) => names.filter((n) => n.type === type).map((n) => n.value);
  return {
    commonName: csr.subjectName.getField('CN')[0] ?? '',
    organizations: csr.subjectName.getField('O'),
    dnsNames: of('dns'),
    ipAddresses: of('ip'),
    emailAddresses: of('email'),
    uris: of('url'),
    verifySignature: () => csr.verify(),
    raw: csr,
  };
}

/** Kubernetes' KeyUsage strings (certificates.k8s.io) that end up as key usages, and those that are extended ones. */
const keyUsageBits: Record<string, number> = {
  'signing': x509.KeyUsageFlags.digitalSignature,
  'digital signature': x509.KeyUsageFlags.digitalSignature,
  'content commitment': x509.KeyUsageFlags.nonRepudiation,
  'key encipherment': x509.KeyUsageFlags.keyEncipherment,
  'key agreement': x509.KeyUsageFlags.keyAgreement,
  'data encipherment': x509.KeyUsageFlags.dataEncipherment,
  'cert sign': x509.KeyUsageFlags.keyCertSign,
  'crl sign': x509.KeyUsageFlags.cRLSign,
  'encipher only': x509.KeyUsageFlags.encipherOnly,
  'decipher only': x509.KeyUsageFlags.decipherOnly,
};
const extKeyUsageOids: Record<string, string> = {
  'any': '2.5.29.37.0',
  'server auth': '1.3.6.1.5.5.7.3.1',
  'client auth': '1.3.6.1.5.5.7.3.2',
  'code signing': '1.3.6.1.5.5.7.3.3',
  'email protection': '1.3.6.1.5.5.7.3.4',
  's/mime': '1.3.6.1.5.5.7.3.4',
  'ipsec end system': '1.3.6.1.5.5.7.3.5',
  'ipsec tunnel': '1.3.6.1.5.5.7.3.6',
  'ipsec user': '1.3.6.1.5.5.7.3.7',
  'timestamping': '1.3.6.1.5.5.7.3.8',
  'ocsp signing': '1.3.6.1.5.5.7.3.9',
  'microsoft sgc': '1.3.6.1.4.1.311.10.3.3',
  'netscape sgc': '2.16.840.1.113730.4.1',
};
export const knownKeyUsages: readonly string[] = [...Object.keys(keyUsageBits), ...Object.keys(extKeyUsageOids)];

export interface SigningCa {
  certPem: string;
  keyPem: string;
}

/** A certificate for the request's subject and SANs, valid from a minute ago (clock skew) to notAfter, with `usages`. */
export async function signCsr(csrPem: string, ca: SigningCa, o: { usages: string[]; notAfter: Date }): Promise<string> {
  const csr = parseCsrPem(csrPem).raw;
  const caCert = new x509.X509Certificate(ca.certPem);
  const { privateKey } = await keyPair(ca.keyPem);
  const bits = o.usages.reduce((b, u) => b | (keyUsageBits[u] ?? 0), 0);
  const ekus = o.usages.map((u) => extKeyUsageOids[u]).filter((x): x is string => !!x);
  const san = csr.extensions.find((e) => e.type === SAN_OID);
  const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(false, undefined, true)];
  if (bits) extensions.push(new x509.KeyUsagesExtension(bits, true));
  if (ekus.length) extensions.push(new x509.ExtendedKeyUsageExtension(ekus));
  if (san) extensions.push(new x509.SubjectAlternativeNameExtension(san.rawData));
  extensions.push(await x509.AuthorityKeyIdentifierExtension.create(caCert, false));
  const notBefore = new Date(Math.min(Date.now() - 60_000, o.notAfter.getTime()));
  // A positive serial: 16 random bytes with the top bit cleared.
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: csr.subjectName,
    issuer: caCert.subjectName,
    publicKey: csr.publicKey,
    signingKey: privateKey,
    signingAlgorithm: EC,
    notBefore,
    notAfter: o.notAfter,
    extensions,
  });
  return cert.toString('pem');
}

/** A self-signed certificate for a key (a node's serving endpoint before the cluster has signed one). */
export async function selfSignedPem(keyPem: string, subject: SubjectRequest, days = 365): Promise<string> {
  const keys = await keyPair(keyPem);
  const sans = [...(subject.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })), ...(subject.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value }))];
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${subject.commonName}`,
    keys,
    signingAlgorithm: EC,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + days * 86_400_000),
    extensions: sans.length ? [new x509.SubjectAlternativeNameExtension(sans)] : [],
  });
  return cert.toString('pem');
}
