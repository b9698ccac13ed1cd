// The cluster's certificates, made once per data dir with the openssl CLI:
// a CA, the API server's serving cert (SANs: loopback, localhost, hostname,
// bind address), an admin client cert (CN=admin, O=system:masters), the
// client cert the API server presents to node agents (CN=kube-apiserver-kubelet-client,
// kubeadm's apiserver-kubelet-client; agents verify it against the CA), a static
// admin bearer token, and DIR/kubeconfig that ties them together for kubectl.
import { readFile, access, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { stringify } from 'yaml';
import { runTool } from '../util/exec-file.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { chmodIfExists, ensureDir } from '../util/dir-mode.js';
import { apiAdvertiseAddress } from './bootstrap.js';
import { KUBELET_CLIENT_USER } from './kubelet-client.js';

export interface Pki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  /** The API server's client certificate and key towards node agents (pod-proxy.ts, metrics-scraper.ts). */
  kubeletClientCert: string;
  kubeletClientKey: string;
  adminToken: string;
  /** DIR/tokens.csv: token,user,uid,"group1,group2" (Kubernetes' static token file format). */
  tokenFile: string;
  /** Signs ServiceAccount tokens. */
  serviceAccountKey: string;
}

const exists = (p: string) => access(p).then(() => true, () => false);

async function newKey(path: string): Promise<void> {
  await runTool('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
}

async function signCert(dir: string, name: string, subject: string, ext: string): Promise<void> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  await newKey(key);
  await runTool('openssl', ['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
  await writeFile(extFile, ext);
  await runTool('openssl', [
    'x509', '-req', '-in', csr, '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial',
    '-days', '3650', '-sha256', '-extfile', extFile, '-out', join(dir, `${name}.crt`),
  ]);
  await rm(csr, { force: true });
  await rm(extFile, { force: true });
}

/** Creates what is missing under DIR/pki and returns it all. Idempotent across restarts. */
export async function ensurePki(dataDir: string, bindAddress: string): Promise<Pki> {
  const dir = join(dataDir, 'pki');
  await ensureDir(dir, 0o700);
  // openssl writes keys 0600; this also tightens files copied in by hand or by an older tug.
  await Promise.all([...['ca.key', 'apiserver.key', 'admin.key', 'apiserver-kubelet-client.key', 'sa.key'].map((f) => join(dir, f)), join(dataDir, 'tokens.csv')].map((p) => chmodIfExists(p, 0o600)));
  if (!(await exists(join(dir, 'ca.crt')))) {
    await newKey(join(dir, 'ca.key'));
    await runTool('openssl', [
      'req', '-x509', '-new', '-key', join(dir, 'ca.key'), '-subj', '/CN=tug-ca', '-days', '3650', '-sha256',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', join(dir, 'ca.crt'),
    ]);
  }
  if (!(await exists(join(dir, 'apiserver.crt')))) {
    const sans = new Set(['IP:127.0.0.1', 'DNS:localhost', `DNS:${hostname()}`, 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'IP:10.96.0.1']);
    if (bindAddress && bindAddress !== '0.0.0.0') sans.add(isIP(bindAddress) ? `IP:${bindAddress}` : `DNS:${bindAddress}`);
    // On every address: the one the join command names too, or agents that verify the server could not join.
    else if (bindAddress === '0.0.0.0') sans.add(`IP:${await apiAdvertiseAddress(bindAddress)}`);
    await signCert(dir, 'apiserver', '/CN=kube-apiserver', `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${[...sans].join(',')}\n`);
  }
  if (!(await exists(join(dir, 'admin.crt')))) {
    await signCert(dir, 'admin', '/O=system:masters/CN=admin', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  }
  if (!(await exists(join(dir, 'apiserver-kubelet-client.crt')))) {
    await signCert(dir, 'apiserver-kubelet-client', `/CN=${KUBELET_CLIENT_USER}`, 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  }
  if (!(await exists(join(dir, 'sa.key')))) await newKey(join(dir, 'sa.key'));
  const tokenFile = join(dataDir, 'tokens.csv');
  if (!(await exists(tokenFile))) {
    await writeFileAtomic(tokenFile, `${randomBytes(24).toString('hex')},admin,admin,"system:masters"\n`, 0o600);
  }
  const tokens = await readFile(tokenFile, 'utf8');
  const adminToken = tokens.split('\n').find((l) => l.split(',')[1] === 'admin')?.split(',')[0] ?? '';
  const [caCert, serverCert, serverKey, adminCert, adminKey, kubeletClientCert, kubeletClientKey, serviceAccountKey] = await Promise.all(
    ['ca.crt', 'apiserver.crt', 'apiserver.key', 'admin.crt', 'admin.key', 'apiserver-kubelet-client.crt', 'apiserver-kubelet-client.key', 'sa.key'].map((f) => readFile(join(dir, f), 'utf8')),
  );
  return { dir, caCert, serverCert, serverKey, adminCert, adminKey, kubeletClientCert, kubeletClientKey, adminToken, tokenFile, serviceAccountKey };
}

/** DIR/kubeconfig: cluster "tug", user "admin" (client cert), context "tug". */
export async function writeKubeconfig(dataDir: string, pki: Pki, server: string): Promise<string> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const cfg = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'tug', cluster: { server, 'certificate-authority-data': b64(pki.caCert) } }],
    users: [{ name: 'admin', user: { 'client-certificate-data': b64(pki.adminCert), 'client-key-data': b64(pki.adminKey) } }],
    contexts: [{ name: 'tug', context: { cluster: 'tug', user: 'admin' } }],
    'current-context': 'tug',
    preferences: {},
  };
  const path = join(dataDir, 'kubeconfig');
  await writeFileAtomic(path, stringify(cfg), 0o600);
  return path;
}
