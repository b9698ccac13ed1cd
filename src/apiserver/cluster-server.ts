// Assembles the control plane for `tug server`: store, certificates, object
// machinery, in-process controllers, bootstrap objects and the HTTPS API.
import { join } from 'node:path';
import { isIP } from 'node:net';
import { ensureDir } from '../util/dir-mode.js';
import { caCertHash } from '../kube/client/ca-pin.js';
import { joinToken, writeJoinCommand, type JoinCommand } from './join-command.js';
import { readFile } from 'node:fs/promises';
import type { Store } from './storage/store.js';
import { openStore } from './storage/open-store.js';
import { TypeRegistry } from '../kube/api/registry.js';
import type { KObject } from '../kube/api/resource-type.js';
import { ObjectStore } from './object-store.js';
import { ensurePki, writeKubeconfig } from './pki.js';
import { ensureSharedPki } from './shared-pki.js';
import { Authenticator, loadTokenFile } from './authn.js';
import { RoleAuthorizer } from './rbac.js';
import { NodeAuthorizer } from './node-authorizer.js';
import { UnionAuthorizer } from './authorizer.js';
import { ApiServer } from './server.js';
import { startServerControllers, type ServerControllers } from './server-controllers.js';
import { serviceHooks, firstServiceIp } from './service-allocator.js';
import { apiAdvertiseAddress, bootstrapCluster } from './bootstrap.js';
import { ServiceAccountTokens } from './service-account-tokens.js';
import { ResourceQuotas } from './resource-quota.js';
import { LimitRanger } from './limit-range.js';
import { ServiceAccountAdmission } from './service-account-admission.js';
import { StorageAdmission } from './storage-admission.js';
import { defaultTolerationSeconds } from './default-toleration-seconds.js';
import { CustomResources } from './custom-resources.js';
import type { ApiserverIdentity } from './kubernetes-endpoints.js';
import { MetricsScraper } from './metrics/metrics-scraper.js';
import { apiserverRegistry, instrumentStore } from './request-metrics.js';
import { processMetrics, type MetricsSource } from '../util/metrics-registry.js';
import { workQueueRegistry } from '../kube/client/work-queue-metrics.js';

export interface ClusterServerOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  bind?: string;
  store?: { kind: 'sqlite' } | { kind: 'etcd'; endpoints: string[]; prefix?: string };
  serviceCidr?: string;
  /** --service-node-port-range (default 30000-32767). */
  nodePortRange?: [number, number];
  /** This server's identity Lease duration: how soon the kubernetes Endpoints drop it once it stops renewing. */
  identityLeaseDurationSeconds?: number;
  /** How often node agents' resource metrics are scraped for metrics.k8s.io (metrics-server's --metric-resolution). */
  metricResolutionMs?: number;
  /** DefaultTolerationSeconds admission: --default-not-ready-toleration-seconds, --default-unreachable-toleration-seconds. */
  defaultNotReadyTolerationSeconds?: number;
  defaultUnreachableTolerationSeconds?: number;
  /** --cluster-signing-duration: the lifetime of certificates the CSR signer issues (default 8760h, as Kubernetes). */
  clusterSigningDurationMs?: number;
}

export interface ClusterServer {
  url: string;
  port: number;
  kubeconfig: string;
  adminToken: string;
  /** The cluster CA certificate (PEM), to verify the API's serving certificate. */
  caCert: string;
  /** kubeadm's sha256:<hex> of the cluster CA's public key, for `tug agent --discovery-token-ca-cert-hash`. */
  caCertHash: string;
  joinCommand: JoinCommand;
  objects: ObjectStore;
  /** Runs the Event TTL sweep now (it also runs every 5 minutes); returns how many Events expired. */
  expireEvents(): Promise<number>;
  /** Adds series to GET /metrics (withControllers adds the scheduler's and controllers'). */
  addMetricsSource(source: MetricsSource): void;
  close(): Promise<void>;
}

export async function startClusterServer(opts: ClusterServerOptions): Promise<ClusterServer> {
  const bind = opts.bind ?? '127.0.0.1';
  const serviceCidr = opts.serviceCidr ?? '10.96.0.0/12';
  // 0700, also on a data dir an older tug left 0755: it holds keys, tokens and the node's engine.
  await ensureDir(opts.dataDir, 0o700);
  const storeOpts = opts.store ?? { kind: 'sqlite' };
  const store: Store =
    storeOpts.kind === 'sqlite' ? await openStore({ kind: 'sqlite', path: join(opts.dataDir, 'state.db') }) : await openStore({ kind: 'etcd', endpoints: storeOpts.endpoints, prefix: storeOpts.prefix });
  let api: ApiServer | undefined;
  let controllers: ServerControllers | undefined;
  let customResources: CustomResources | undefined;
  let identity: ApiserverIdentity | undefined;
  let metrics: MetricsScraper | undefined;
  try {
    // Servers sharing an etcd must share the CA, SA key and admin token (HA).
    const pki = storeOpts.kind === 'etcd' ? await ensureSharedPki(store, opts.dataDir, bind) : await ensurePki(opts.dataDir, bind);
    // Every storage call is timed into etcd_request_duration_seconds (request-metrics.ts).
    const objects = new ObjectStore(instrumentStore(store), new TypeRegistry());
    objects.registerHooks('Service', serviceHooks(objects, { serviceCidr, nodePortRange: opts.nodePortRange }));
    objects.registerHooks('Namespace', {
      beforeCreate: async (o) => {
        o.spec ??= {};
        o.spec.finalizers ??= ['kubernetes'];
      },
    });
    const saType = objects.registry.lookup('', 'v1', 'serviceaccounts')!;
    const secretType = objects.registry.lookup('', 'v1', 'secrets')!;
    const quotas = new ResourceQuotas(objects);
    const limits = new LimitRanger(objects);
    const serviceAccounts = new ServiceAccountAdmission(objects);
    const storage = new StorageAdmission(objects);
    const tolerations = defaultTolerationSeconds({ notReadySeconds: opts.defaultNotReadyTolerationSeconds, unreachableSeconds: opts.defaultUnreachableTolerationSeconds });
    // LimitRange defaults first, then the ServiceAccount, then the quota check, as in
    // Kubernetes. Their reads (a round trip each on etcd) go out together, with create's own.
    objects.registerAdmission<[KObject[], KObject[], KObject | null | undefined]>(
      async (t, o, [ranges, namespaceQuotas, sa]) => {
        limits.apply(o, ranges);
        await serviceAccounts.admit(t, o, sa);
        await storage.admit(t, o);
        await tolerations(t, o);
        await quotas.check(t, o, namespaceQuotas);
      },
      (t, o) => Promise.all([limits.rangesFor(t, o), quotas.quotasFor(t, o), serviceAccounts.lookup(t, o)]),
    );
    customResources = new CustomResources(objects);
    await customResources.start();
    // GC, namespaces, quota status, default ServiceAccounts: watch-driven, so they start before anything is written.
    const caKey = await readFile(join(pki.dir, 'ca.key'), 'utf8');
    controllers = await startServerControllers(objects, quotas, { ca: { certPem: pki.caCert, keyPem: caKey }, signingDurationMs: opts.clusterSigningDurationMs });
    const saTokens = new ServiceAccountTokens(pki.serviceAccountKey);
    // Node agents are reached over TLS both ways: verified against the CA, with the kubelet-client certificate (kubelet-client.ts).
    const kubeletClient = { ca: pki.caCert, cert: pki.kubeletClientCert, key: pki.kubeletClientKey };
    const authn = new Authenticator(await loadTokenFile(pki.tokenFile), saTokens, async (ns, name) => (await objects.getOrNull(saType, ns, name))?.metadata?.uid, (name) => objects.getOrNull(secretType, 'kube-system', name));
    // The CA follows the serving cert in the chain, so a joining agent can pin it by hash (kube/client/ca-pin.ts).
    metrics = new MetricsScraper({ objects, kubeletClient, resolutionMs: opts.metricResolutionMs, log: (m) => process.stderr.write(`tug server: ${m}
`) });
    api = new ApiServer({ objects, authn, authz: new UnionAuthorizer(new NodeAuthorizer(objects, controllers.nodePods), new RoleAuthorizer(objects)), tls: { key: pki.serverKey, cert: `${pki.serverCert.trimEnd()}
${pki.caCert}`, ca: pki.caCert }, saTokens, bind, port: opts.port, kubeletClient, metrics, prometheus: [processMetrics(), apiserverRegistry, workQueueRegistry] });
    const url = await api.start();
    const port = Number(new URL(url).port);
    const advertise = await apiAdvertiseAddress(bind);
    identity = await bootstrapCluster(objects, firstServiceIp(serviceCidr), port, advertise, { identityLeaseDurationSeconds: opts.identityLeaseDurationSeconds, soleServer: storeOpts.kind === 'sqlite' });
    const kubeconfig = await writeKubeconfig(opts.dataDir, pki, `https://${bind === '0.0.0.0' ? '127.0.0.1' : bind}:${port}`);
    const hash = caCertHash(pki.caCert);
    const joinCommand = await writeJoinCommand(opts.dataDir, `https://${isIP(advertise) === 6 ? `[${advertise}]` : advertise}:${port}`, await joinToken(objects, opts.dataDir), hash);
    const server = api;
    const collector = controllers.gc;
    const running = controllers;
    const crds = customResources;
    const lease = identity;
    const scraper = metrics;
    scraper.start();
    return {
      url,
      port,
      kubeconfig,
      adminToken: pki.adminToken,
      caCert: pki.caCert,
      caCertHash: hash,
      joinCommand,
      objects,
      expireEvents: () => collector.expireEvents(),
      addMetricsSource: (source) => server.addMetricsSource(source),
      async close() {
        await scraper.stop();
        running.stop();
        crds.stop();
        await lease.stop();
        await server.close();
        await store.close();
      },
    };
  } catch (err) {
    await metrics?.stop();
    controllers?.stop();
    customResources?.stop();
    await identity?.stop();
    await api?.close();
    await store.close();
    throw err;
  }
}
