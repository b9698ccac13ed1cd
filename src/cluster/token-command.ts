// `tug token create|list|delete`: bootstrap tokens for joining nodes, as
// `kubeadm token` manages them: Secrets kube-system/bootstrap-token-<id>,
// written through the API server with the admin kubeconfig
// (--kubeconfig FILE, or DIR/kubeconfig of --data-dir DIR, or $KUBECONFIG).
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { invalid, isKind, messageOf, notFound } from '../errdefs.js';
import { KubeClient, type KubeObject } from '../kube/client/kube-client.js';
import { parseDurationMs } from '../util/duration-flag.js';
import { humanDuration } from '../kube/api/meta.js';
import {
  BOOTSTRAP_TOKEN_PREFIX,
  BOOTSTRAP_TOKEN_SECRET_TYPE,
  BOOTSTRAPPERS_GROUP,
  DEFAULT_NODE_TOKEN_GROUP,
  bootstrapTokenSecret,
  parseBootstrapToken,
  randomBootstrapToken,
  tokenExpiry,
  tokenSecretField,
} from '../kube/api/bootstrap-token.js';

const tokenHelp = `Usage: tug token create [--ttl D] [--description TEXT] [--groups G1,G2] [--print-join-command]
       tug token list
       tug token delete ID|TOKEN...

Manages bootstrap tokens, with which \`tug agent --token\` joins a node (as
kubeadm token does): Secrets bootstrap-token-<id> of type
${BOOTSTRAP_TOKEN_SECRET_TYPE} in kube-system, written through the API server.
An expired token stops working and the server deletes it.

Options (every subcommand):
  --kubeconfig FILE   the admin kubeconfig (default: DIR/kubeconfig with --data-dir,
                      else $KUBECONFIG, else ~/.kube/config)
  --data-dir DIR      the data dir of a tug server on this machine (its kubeconfig and join-command)
create:
  --ttl D             how long the token works (default 24h; 0 = never expires; 10m, 2h...)
  --description TEXT  a note kept with the token
  --groups G1,G2      extra groups (each system:bootstrappers:...; default ${DEFAULT_NODE_TOKEN_GROUP})
  --print-join-command
                      print the whole tug agent command (needs --data-dir: the server URL and CA hash
                      come from its join-command)
  -h, --help          show this help
`;

const secretsRef = { group: '', version: 'v1', resource: 'secrets', namespace: 'kube-system' };

function kubeconfigPath(v: { kubeconfig?: string; 'data-dir'?: string }): string {
  if (v.kubeconfig) return v.kubeconfig;
  if (v['data-dir']) return join(v['data-dir'], 'kubeconfig');
  return process.env.KUBECONFIG?.split(':')[0] || join(homedir(), '.kube', 'config');
}

function tokenRows(items: KubeObject[], now: number): string {
  const rows = [['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS']];
  for (const s of items) {
    if ((s as { type?: string }).type !== BOOTSTRAP_TOKEN_SECRET_TYPE) continue;
    const id = tokenSecretField(s, 'token-id') ?? s.metadata.name?.slice(BOOTSTRAP_TOKEN_PREFIX.length) ?? '';
    const exp = tokenExpiry(s);
    const usages = Object.keys((s as { data?: Record<string, string> }).data ?? {})
      .filter((k) => k.startsWith('usage-bootstrap-') && tokenSecretField(s, k) === 'true')
      .map((k) => k.slice('usage-bootstrap-'.length))
      .join(',');
    rows.push([
      `${id}.<secret>`,
      exp === undefined ? '<forever>' : exp <= now ? '<invalid>' : humanDuration(exp - now),
      exp === undefined ? '<never>' : new Date(exp).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      usages || '<none>',
      tokenSecretField(s, 'description') || '<none>',
      tokenSecretField(s, 'auth-extra-groups') || '<none>',
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('')).join('\n') + '\n';
}

export async function runTokenCommand(argv: string[]): Promise<void> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: 'string' },
        'data-dir': { type: 'string' },
        ttl: { type: 'string', default: '24h' },
        description: { type: 'string' },
        groups: { type: 'string' },
        'print-join-command': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`tug token: ${messageOf(err)}\n\n${tokenHelp}`);
    process.exitCode = 2;
    return;
  }
  const [sub, ...args] = positionals;
  if (values.help || !sub) {
    process.stdout.write(tokenHelp);
    if (!values.help) process.exitCode = 2;
    return;
  }
  let client: KubeClient | undefined;
  try {
    client = await KubeClient.fromKubeconfig(kubeconfigPath(values));
    if (sub === 'create') {
      if (args.length) throw invalid(`tug token create takes no arguments (got ${args.join(' ')}): kubeadm's "create TOKEN" form is not supported`);
      const ttlMs = values.ttl === '0' ? 0 : parseDurationMs(values.ttl!, 'tug token create: --ttl');
      const extraGroups = values.groups === undefined ? [DEFAULT_NODE_TOKEN_GROUP] : values.groups.split(',').map((g) => g.trim()).filter(Boolean);
      const bad = extraGroups.find((g) => !g.startsWith(`${BOOTSTRAPPERS_GROUP}:`));
      if (bad) throw invalid(`tug token create: --groups "${bad}": extra groups must start with "${BOOTSTRAPPERS_GROUP}:"`);
      const t = randomBootstrapToken();
      await client.create(secretsRef, bootstrapTokenSecret(t, { ttlMs, description: values.description, extraGroups }));
      const token = `${t.id}.${t.secret}`;
      if (values['print-join-command']) {
        if (!values['data-dir']) throw invalid('tug token create: --print-join-command needs --data-dir (the server URL and CA hash come from DIR/join-command)');
        const { readFile } = await import('node:fs/promises');
        const line = (await readFile(join(values['data-dir'], 'join-command'), 'utf8')).trim();
        process.stdout.write(`${line.replace(/--token \S+/, `--token ${token}`)}\n`);
      } else process.stdout.write(`${token}\n`);
    } else if (sub === 'list') {
      const { items } = await client.list(secretsRef, { fieldSelector: `type=${BOOTSTRAP_TOKEN_SECRET_TYPE}` }).catch(() => client!.list(secretsRef));
      process.stdout.write(tokenRows(items, Date.now()));
    } else if (sub === 'delete') {
      if (!args.length) throw invalid('tug token delete: name the token (its id, or the whole <id>.<secret>)');
      for (const a of args) {
        const id = parseBootstrapToken(a)?.id ?? a;
        if (!/^[a-z0-9]{6}$/.test(id)) throw invalid(`tug token delete: "${a}" is neither a token id ([a-z0-9]{6}) nor a token`);
        try {
          await client.delete(secretsRef, `${BOOTSTRAP_TOKEN_PREFIX}${id}`);
        } catch (err) {
          if (isKind(err, 'not-found')) throw notFound(`bootstrap token "${id}" not found`);
          throw err;
        }
        process.stdout.write(`bootstrap token "${id}" deleted\n`);
      }
    } else throw invalid(`tug token: unknown subcommand "${sub}" (create, list, delete)`);
  } catch (err) {
    process.stderr.write(`tug token: ${messageOf(err)}\n`);
    process.exitCode = 1;
  } finally {
    client?.close();
  }
}
