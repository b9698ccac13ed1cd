// Trusting a cluster's CA on first contact, as kubeadm's token discovery does:
// the join command carries --discovery-token-ca-cert-hash sha256:<hex>, the
// SHA-256 of the CA certificate's SubjectPublicKeyInfo (DER), kubeadm's exact
// format. The joining node reads the CA from the server's TLS chain (tug's API
// server sends its CA after its serving cert) without sending anything, keeps
// it only if its hash is pinned and it issued the serving cert, and from then
// on verifies every connection against it. Nothing secret (the token) goes
// out before the CA is pinned, so a server in the middle learns nothing.
import { X509Certificate, createHash } from 'node:crypto';
import { connect, type DetailedPeerCertificate } from 'node:tls';
import { isIP } from 'node:net';
import { invalid, TugError } from '../../errdefs.js';

/** kubeadm's "sha256:<hex>" of a certificate's SubjectPublicKeyInfo. */
export function caCertHash(pem: string): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** Checks and normalizes a pin as kubeadm does ("sha256:" then 64 hex digits, any case). */
export function parseCaCertHash(pin: string): string {
  const m = /^([A-Za-z0-9]+):([0-9A-Fa-f]*)$/.exec(pin.trim());
  if (!m) throw invalid(`--discovery-token-ca-cert-hash "${pin}": expected "sha256:<hex>" (the format tug server and kubeadm print)`);
  if (m[1]!.toLowerCase() !== 'sha256') throw invalid(`--discovery-token-ca-cert-hash "${pin}": unknown hash format "${m[1]}"; the known format is sha256`);
  if (m[2]!.length !== 64) throw invalid(`--discovery-token-ca-cert-hash "${pin}": a sha256 hash is 64 hex digits, not ${m[2]!.length}`);
  return `sha256:${m[2]!.toLowerCase()}`;
}

/** The certificates a server presents, leaf first, each once. */
async function presentedChain(server: URL): Promise<X509Certificate[]> {
  const host = server.hostname.replace(/^\[|\]$/g, '');
  const port = Number(server.port || 443);
  const peer = await new Promise<DetailedPeerCertificate>((resolve, reject) => {
    // Unverified on purpose: this connection only reads certificates, and sends no request.
    const sock = connect({ host, port, servername: isIP(host) ? undefined : host, rejectUnauthorized: false }, () => {
      const cert = sock.getPeerCertificate(true);
      sock.destroy();
      resolve(cert);
    });
    sock.setTimeout(15_000, () => sock.destroy(new Error('timed out')));
    sock.once('error', (err) => reject(new TugError('unavailable', `cannot reach the API server at ${server.origin} to discover its CA: ${err.message}`)));
  });
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = peer; c?.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    chain.push(new X509Certificate(c.raw));
  }
  return chain;
}

/**
 * The PEM of the server's CA, once its hash matches one of `pins` (normalized
 * with parseCaCertHash) and it signed the serving certificate. Refuses otherwise.
 */
/**
 * The CA the server presents after its serving certificate, unchecked against any
 * pin (--discovery-token-unsafe-skip-ca-verification: kubeadm then takes the CA
 * from cluster-info unverified). The agent still needs a CA to verify the API
 * server's calls to its own endpoint; from here on it is trusted on first use.
 */
export async function discoverPresentedCa(serverUrl: string): Promise<string> {
  const server = new URL(serverUrl);
  if (server.protocol !== 'https:') throw invalid(`--server ${serverUrl}: CA discovery needs an https:// URL`);
  const [leaf, ...rest] = await presentedChain(server);
  if (!leaf) throw new TugError('unavailable', `the API server at ${server.origin} presented no certificate`);
  const ca = rest.find((c) => c.ca && leaf.checkIssued(c) && leaf.verify(c.publicKey));
  if (!ca) throw new TugError('forbidden', `the API server at ${server.origin} presents no CA certificate that signed its serving certificate: give --ca-file`);
  return ca.toString();
}

export async function discoverPinnedCa(serverUrl: string, pins: string[]): Promise<string> {
  const server = new URL(serverUrl);
  if (server.protocol !== 'https:') throw invalid(`--server ${serverUrl}: CA discovery needs an https:// URL`);
  const chain = await presentedChain(server);
  const leaf = chain[0];
  if (!leaf) throw new TugError('unavailable', `the API server at ${server.origin} presented no certificate`);
  const cas = chain.slice(1).filter((c) => c.ca);
  const ca = cas.find((c) => pins.includes(caCertHash(c.toString())));
  if (!ca) {
    const seen = cas.length ? `its CA's hash is ${cas.map((c) => caCertHash(c.toString())).join(', ')}` : 'it presents no CA certificate in its TLS chain (give --ca-file instead)';
    throw new TugError('forbidden', `refusing to join ${server.origin}: ${seen}, which does not match --discovery-token-ca-cert-hash ${pins.join(', ')}`);
  }
  if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) {
    throw new TugError('forbidden', `refusing to join ${server.origin}: its serving certificate was not signed by the pinned CA ${caCertHash(ca.toString())}`);
  }
  return ca.toString();
}
