// The shape check every Compose file passes after interpolation, before any
// merge: unknown keys, wrong types and keys tug does not run are refused with
// the file, the line and the key's path ("compose.yaml:7: services.web:
// additional property "imagee" is not allowed"). The shapes follow the Compose
// Specification's JSON schema; `x-` extension keys are allowed in every
// mapping and ignored. Scalars may be strings where the spec wants numbers or
// booleans, since interpolation yields strings ("${PORT}"); the normaliser
// converts them.

import { errorAt, Override, RESET, type SourceFile, sourceError } from './yaml-source.js';

type Schema =
  | 'str' | 'int' | 'num' | 'bool' | 'dur' | 'size' | 'scalar' | 'null' | 'any'
  | { obj: Record<string, Schema>; extra?: Schema }
  | { list: Schema }
  | { oneOf: Schema[]; desc: string };

const obj = (props: Record<string, Schema>, extra?: Schema): Schema => ({ obj: props, extra });
const list = (item: Schema): Schema => ({ list: item });
const oneOf = (desc: string, ...alts: Schema[]): Schema => ({ oneOf: alts, desc });
const strList: Schema = list('str');
const strOrList: Schema = oneOf('string or list', 'str', strList);
const scalarOrNull: Schema = oneOf('string, number, boolean or null', 'scalar');
const listOrDict: Schema = oneOf('list or mapping', strList, obj({}, scalarOrNull));
const dictStr: Schema = obj({}, 'scalar');

/** Keys the spec defines that tug compose does not implement: refused rather than silently ignored. */
const UNSUPPORTED: Schema = 'any';
const UNSUPPORTED_KEYS = new Set([
  'blkio_config', 'credential_spec', 'gpus', 'post_start', 'pre_stop', 'models', 'provider', 'isolation',
  'cpu_count', 'cpu_percent', 'cpu_rt_period', 'cpu_rt_runtime', 'device_cgroup_rules', 'label_file',
  'use_api_socket', 'cgroup', 'pull_refresh_after', 'lifecycle_hooks',
]);

const buildSchema: Schema = oneOf(
  'string or mapping',
  'str',
  obj({
    context: 'str',
    dockerfile: 'str',
    dockerfile_inline: 'str',
    args: listOrDict,
    ssh: listOrDict,
    labels: listOrDict,
    cache_from: strList,
    cache_to: strList,
    no_cache: 'bool',
    additional_contexts: listOrDict,
    network: 'str',
    pull: 'bool',
    target: 'str',
    shm_size: 'size',
    extra_hosts: listOrDict,
    isolation: 'str',
    privileged: 'bool',
    secrets: 'any',
    tags: strList,
    ulimits: 'any',
    platforms: strList,
    entitlements: strList,
  }),
);

const durOpt = 'dur' as const;
const healthcheckSchema: Schema = obj({
  test: strOrList,
  interval: durOpt,
  timeout: durOpt,
  start_period: durOpt,
  start_interval: durOpt,
  retries: 'int',
  disable: 'bool',
});

const resourcesSchema: Schema = obj({
  limits: obj({ cpus: 'num', memory: 'size', pids: 'int' }),
  reservations: obj({ cpus: 'num', memory: 'size', devices: list('any'), generic_resources: list('any') }),
});

const deploySchema: Schema = obj({
  mode: 'str',
  endpoint_mode: 'str',
  replicas: 'int',
  labels: listOrDict,
  rollback_config: obj({}, 'any'),
  update_config: obj({}, 'any'),
  resources: resourcesSchema,
  restart_policy: obj({ condition: 'str', delay: 'dur', max_attempts: 'int', window: 'dur' }),
  placement: obj({}, 'any'),
});

const portsSchema: Schema = list(
  oneOf(
    'number, string or mapping',
    'num',
    'str',
    obj({ name: 'str', mode: 'str', host_ip: 'str', target: 'int', published: oneOf('string or number', 'str', 'int'), protocol: 'str', app_protocol: 'str' }),
  ),
);

const volumesSchema: Schema = list(
  oneOf(
    'string or mapping',
    'str',
    obj({
      type: 'str',
      source: 'str',
      target: 'str',
      read_only: 'bool',
      consistency: 'str',
      bind: obj({ propagation: 'str', create_host_path: 'bool', selinux: 'str' }),
      volume: obj({ nocopy: 'bool', subpath: 'str' }),
      tmpfs: obj({ size: 'size', mode: 'num' }),
      image: obj({ subpath: 'str' }),
    }),
  ),
);

const fileRefs: Schema = list(oneOf('string or mapping', 'str', obj({ source: 'str', target: 'str', uid: 'str', gid: 'str', mode: 'num' })));

const serviceSchema: Schema = obj({
  annotations: listOrDict,
  attach: 'bool',
  build: buildSchema,
  cap_add: strList,
  cap_drop: strList,
  cgroup_parent: 'str',
  command: oneOf('string or list', 'str', strList, 'null'),
  configs: fileRefs,
  container_name: 'str',
  cpu_shares: 'int',
  cpu_quota: 'int',
  cpu_period: 'int',
  cpus: 'num',
  cpuset: 'str',
  depends_on: oneOf('list or mapping', strList, obj({}, obj({ condition: 'str', restart: 'bool', required: 'bool' }))),
  deploy: deploySchema,
  // `develop` drives only `compose watch`; the loader drops it with a warning.
  develop: obj({ watch: list('any') }),
  devices: list(oneOf('string or mapping', 'str', obj({ source: 'str', target: 'str', permissions: 'str' }))),
  dns: strOrList,
  dns_opt: strList,
  dns_search: strOrList,
  domainname: 'str',
  entrypoint: oneOf('string or list', 'str', strList, 'null'),
  env_file: oneOf('string or list', 'str', list(oneOf('string or mapping', 'str', obj({ path: 'str', required: 'bool', format: 'str' })))),
  environment: listOrDict,
  expose: list(oneOf('string or number', 'str', 'int')),
  extends: oneOf('string or mapping', 'str', obj({ service: 'str', file: 'str' })),
  external_links: strList,
  extra_hosts: listOrDict,
  group_add: list(oneOf('string or number', 'str', 'int')),
  healthcheck: healthcheckSchema,
  hostname: 'str',
  image: 'str',
  init: 'bool',
  ipc: 'str',
  labels: listOrDict,
  links: strList,
  logging: obj({ driver: 'str', options: obj({}, scalarOrNull) }),
  mac_address: 'str',
  mem_limit: 'size',
  mem_reservation: 'size',
  mem_swappiness: 'int',
  memswap_limit: 'size',
  network_mode: 'str',
  networks: oneOf(
    'list or mapping',
    strList,
    obj({}, oneOf('mapping or null', obj({ aliases: strList, ipv4_address: 'str', ipv6_address: 'str', link_local_ips: strList, priority: 'num', mac_address: 'str', driver_opts: dictStr, gw_priority: 'num', interface_name: 'str' }), 'null')),
  ),
  oom_kill_disable: 'bool',
  oom_score_adj: 'int',
  pid: 'str',
  pids_limit: 'int',
  platform: 'str',
  ports: portsSchema,
  privileged: 'bool',
  profiles: strList,
  pull_policy: 'str',
  read_only: 'bool',
  restart: 'str',
  runtime: 'str',
  scale: 'int',
  secrets: fileRefs,
  security_opt: strList,
  shm_size: 'size',
  stdin_open: 'bool',
  stop_grace_period: 'dur',
  stop_signal: 'str',
  storage_opt: obj({}, 'any'),
  sysctls: listOrDict,
  tmpfs: strOrList,
  tty: 'bool',
  ulimits: obj({}, oneOf('integer or mapping', 'int', obj({ soft: 'int', hard: 'int' }))),
  user: 'str',
  userns_mode: 'str',
  uts: 'str',
  volumes: volumesSchema,
  volumes_from: strList,
  working_dir: 'str',
  ...Object.fromEntries([...UNSUPPORTED_KEYS].map((k) => [k, UNSUPPORTED])),
});

const externalSchema: Schema = oneOf('boolean or mapping', 'bool', obj({ name: 'str' }));

const networkSchema: Schema = oneOf(
  'mapping or null',
  obj({
    name: 'str',
    driver: 'str',
    driver_opts: obj({}, 'scalar'),
    ipam: obj({
      driver: 'str',
      config: list(obj({ subnet: 'str', ip_range: 'str', gateway: 'str', aux_addresses: obj({}, 'str') })),
      options: obj({}, 'str'),
    }),
    external: externalSchema,
    internal: 'bool',
    enable_ipv4: 'bool',
    enable_ipv6: 'bool',
    attachable: 'bool',
    labels: listOrDict,
  }),
  'null',
);

const volumeSchema: Schema = oneOf(
  'mapping or null',
  obj({ name: 'str', driver: 'str', driver_opts: obj({}, 'scalar'), external: externalSchema, labels: listOrDict }),
  'null',
);

const fileObjectSchema: Schema = obj({
  name: 'str',
  file: 'str',
  content: 'str',
  environment: 'str',
  external: externalSchema,
  labels: listOrDict,
  driver: 'str',
  driver_opts: obj({}, 'scalar'),
  template_driver: 'str',
});

const includeSchema: Schema = list(
  oneOf('string or mapping', 'str', obj({ path: strOrList, env_file: strOrList, project_directory: 'str' })),
);

const topSchema: Schema = obj({
  version: 'any',
  name: 'str',
  include: includeSchema,
  services: oneOf('mapping', obj({}, oneOf('mapping', serviceSchema, 'null')), 'null'),
  networks: oneOf('mapping', obj({}, networkSchema), 'null'),
  volumes: oneOf('mapping', obj({}, volumeSchema), 'null'),
  secrets: oneOf('mapping', obj({}, fileObjectSchema), 'null'),
  configs: oneOf('mapping', obj({}, fileObjectSchema), 'null'),
  models: UNSUPPORTED,
});

// Service names become parts of container names, DNS names and labels.
const SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Checks one file's interpolated data; throws the first problem with its line. */
export function validateFile(src: SourceFile): void {
  check(topSchema, src.data, '', src);
  for (const k of Object.keys(src.data)) if (k === 'models') throw sourceError(src, k, 'not supported by tug compose');
  const services = src.data.services;
  if (isPlainObject(services)) {
    for (const [name, svc] of Object.entries(services)) {
      if (!SERVICE_NAME.test(name)) {
        throw errorAt(src, `services.${name}`, `services: invalid service name "${name}": use letters, digits, "_", "." and "-", starting with a letter or digit`);
      }
      if (svc !== null && !isPlainObject(svc)) throw errorAt(src, `services.${name}`, `services.${name} must be a mapping`);
      if (!isPlainObject(svc)) continue;
      for (const k of Object.keys(svc)) {
        if (UNSUPPORTED_KEYS.has(k)) throw sourceError(src, `services.${name}.${k}`, 'not supported by tug compose');
      }
    }
  }
}

// Returns nothing when `v` fits; throws otherwise. For oneOf, a value that
// has the right outer kind (mapping, list) is checked deeply against that
// branch so the error points inside it rather than at the union.
function check(s: Schema, v: unknown, at: string, src: SourceFile): void {
  if (v === RESET) return;
  if (v instanceof Override) return check(s, v.value, at, src);
  const fail = (what: string): never => {
    throw errorAt(src, at, `${at || 'top level'} must be ${article(what)}`);
  };
  if (typeof s === 'string') {
    switch (s) {
      case 'any':
        return;
      case 'null':
        if (v === null) return;
        return fail('null');
      case 'str':
        if (typeof v === 'string' || typeof v === 'number') return;
        return fail('string');
      case 'scalar':
        if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) return;
        return fail('string, number or boolean');
      case 'int':
        if (typeof v === 'number' && Number.isInteger(v)) return;
        if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) return;
        return fail('integer');
      case 'num':
        if (typeof v === 'number') return;
        if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return;
        return fail('number');
      case 'bool':
        if (typeof v === 'boolean') return;
        if (typeof v === 'string' && /^(true|false)$/i.test(v)) return;
        return fail('boolean');
      case 'dur':
      case 'size':
        if (typeof v === 'string' || typeof v === 'number') return;
        return fail(s === 'dur' ? 'duration string' : 'size string');
    }
  }
  if ('obj' in s) {
    if (!isPlainObject(v)) return fail('mapping');
    for (const [k, child] of Object.entries(v)) {
      const p = at ? `${at}.${k}` : k;
      if (k.startsWith('x-')) continue;
      const sub = s.obj[k] ?? s.extra;
      if (!sub) throw errorAt(src, p, `${at || 'top level'}: additional property "${k}" is not allowed`);
      check(sub, child, p, src);
    }
    return;
  }
  if ('list' in s) {
    if (!Array.isArray(v)) return fail('list');
    v.forEach((item, i) => check(s.list, item, `${at}[${i}]`, src));
    return;
  }
  // oneOf: pick the branch whose outer kind matches, then check it deeply.
  for (const alt of s.oneOf) if (kindFits(alt, v)) return check(alt, v, at, src);
  return fail(s.desc);
}

function kindFits(s: Schema, v: unknown): boolean {
  if (typeof s === 'string') {
    if (s === 'any') return true;
    try {
      check(s, v, '', { path: '', display: '', lines: new Map(), data: {} });
      return true;
    } catch {
      return false;
    }
  }
  if ('obj' in s) return isPlainObject(v);
  if ('list' in s) return Array.isArray(v);
  return s.oneOf.some((a) => kindFits(a, v));
}

function article(what: string): string {
  return /^[aeiou]/.test(what) ? `an ${what}` : `a ${what}`;
}
