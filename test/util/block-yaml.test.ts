// The early Lease renewal's kubeconfig reader (util/block-yaml.ts) against the
// yaml package the agent proper uses: the same value for every kubeconfig tug
// and kubectl write, and no value (never a different one) for YAML it does not take.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { parseBlockYaml } from '../../src/util/block-yaml.js';
import { kubeconfigOptions } from '../../src/kube/client/kubeconfig.js';
import { runTool } from '../../src/util/exec-file.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test("a node.kubeconfig as tug writes it (the yaml package's stringify) reads the same", async () => {
  const cfg = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'tug', cluster: { server: 'https://[::1]:6443', 'certificate-authority-data': b64('-----BEGIN CERTIFICATE-----\n'.repeat(40)) } }],
    users: [{ name: 'system:node:n-1', user: { 'client-certificate-data': b64('c'.repeat(900)), 'client-key-data': b64('k'.repeat(300)) } }],
    contexts: [{ name: 'tug', context: { cluster: 'tug', user: 'system:node:n-1' } }],
    'current-context': 'tug',
  };
  const text = stringify(cfg);
  assert.deepEqual(parseBlockYaml(text), parse(text));
  assert.deepEqual(await kubeconfigOptions(parseBlockYaml(text), 'x'), await kubeconfigOptions(parse(text), 'x'));
});

test('a kubeconfig kubectl writes (same-indent sequences, {} and quoted values) reads the same', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tug-block-yaml-'));
  try {
    const path = join(dir, 'config');
    const ca = join(dir, 'ca.pem');
    await writeFile(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const kubectl = (args: string[]) => runTool('kubectl', [...args, '--kubeconfig', path]);
    await kubectl(['config', 'set-cluster', 'c1', '--server=https://10.0.0.1:6443', `--certificate-authority=${ca}`, '--embed-certs=true']);
    await kubectl(['config', 'set-cluster', 'c2', '--server=https://h.example:6443', '--insecure-skip-tls-verify=true']);
    await kubectl(['config', 'set-credentials', 'u:1', "--token=to'ken#x"]);
    await kubectl(['config', 'set-context', 'ctx', '--cluster=c1', '--user=u:1']);
    await kubectl(['config', 'use-context', 'ctx']);
    const text = await readFile(path, 'utf8');
    const mine = parseBlockYaml(text);
    assert.notEqual(mine, undefined, text);
    assert.deepEqual(mine, parse(text));
    const opts = await kubeconfigOptions(mine, path);
    assert.equal(opts.server, 'https://10.0.0.1:6443');
    assert.equal(opts.token, "to'ken#x");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('comments, quoted keys and JSON read the same; what the reader does not take gives undefined, never another value', () => {
  for (const text of ['# c\nkind: Config # why\n"current-context": \'a b\'\nusers:\n  - name: x\n    user: {}\n', '{"clusters": [{"name": "a"}]}', 'a:\n- b\n- "c\\"d"\n']) {
    assert.deepEqual(parseBlockYaml(text), parse(text), text);
  }
  for (const text of ['a: |\n  x\n', 'a: &x b\nc: *x\n', 'a: !!str b\n', 'a: [b, c]\n', 'a: 12\n', 'a: b\n  c\n', 'a:\n  b: 1\n c: 2\n', 'a: 1\na: 2\n', 'a: x\n---\nb: y\n', '<<: {}\n', 'a:\n\tb: c\n']) {
    assert.equal(parseBlockYaml(text), undefined, text);
  }
});
