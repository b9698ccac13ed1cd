// Joining a node pins the cluster CA, as kubeadm's token discovery does: a
// real `tug server` prints the CA hash (kubeadm's sha256 of the CA's
// SubjectPublicKeyInfo) and writes the join command; `tug agent` with that
// hash joins and its Node goes Ready; a wrong hash or none at all refuses,
// naming the flags, before anything is made. The server's data dir, keys and
// kubeconfig are private.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from '../../src/util/exec-file.js';
import { startAgentCluster, startAgentProcess, suffix, tugBin, type AgentCluster } from './agent-cluster.js';

let c: AgentCluster;

before(async () => {
  c = await startAgentCluster();
});

after(async () => {
  await c?.stop();
});

const modeOf = async (p: string): Promise<string> => ((await stat(p)).mode & 0o7777).toString(8).padStart(4, '0');

/** Runs `tug agent ARGS` on a fresh data dir to its end (it is expected to refuse); the data dir must stay empty. */
async function agentRefuses(args: string[]): Promise<{ code: number; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tug-agent-refused-'));
  try {
    const r = await runTool(process.execPath, [tugBin, 'agent', ...args, '--data-dir', dir, '--node-name', `refused-${suffix()}`], { allowFailure: true });
    assert.deepEqual(await readdir(dir), [], 'a refused agent makes nothing');
    return { code: r.code, output: r.stdout + r.stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('tug server prints kubeadm\'s CA hash and writes the join command, token kept off its output', async () => {
  const out = c.server.output();
  const printed = out.match(/CA certificate hash (sha256:[0-9a-f]{64})\n/)?.[1];
  assert.ok(printed, out);
  assert.equal(printed, c.caCertHash);
  // kubeadm's documented recipe: openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256sum.
  const pub = await runTool('openssl', ['x509', '-pubkey', '-noout', '-in', join(c.dataDir, 'pki', 'ca.crt')]);
  const der = await runTool('sh', ['-c', 'openssl pkey -pubin -outform der | sha256sum'], { input: pub.stdout });
  assert.equal(printed, `sha256:${der.stdout.split(/\s/)[0]}`);
  assert.match(out, new RegExp(`join a node with tug agent --server https://127\\.0\\.0\\.1:\\d+ --token <token> --discovery-token-ca-cert-hash ${printed}`));
  assert.ok(!out.includes(c.token), 'the token is not printed');
  assert.equal(await modeOf(join(c.dataDir, 'join-command')), '0600');
});

test('the cluster data dir, keys, tokens and kubeconfig are private', async () => {
  assert.equal(await modeOf(c.dataDir), '0700');
  assert.equal(await modeOf(join(c.dataDir, 'pki')), '0700');
  for (const f of ['pki/ca.key', 'pki/apiserver.key', 'pki/admin.key', 'pki/sa.key', 'tokens.csv', 'kubeconfig']) assert.equal(await modeOf(join(c.dataDir, f)), '0600', f);
  // The data dir sits in /tmp (1777), so its own mode is what stops nobody.
  const r = await runTool('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', 'cat', join(c.dataDir, 'kubeconfig')], { allowFailure: true });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Permission denied/);
});

test('an agent with the right hash joins and its Node goes Ready', async () => {
  const name = `pinned-${suffix()}`;
  const agent = await c.startAgent(name);
  assert.match(agent.proc.output(), /registered/);
  await c.until('pinned node Ready', async () => {
    const r = await c.kubectl(['get', 'node', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'], { allowFailure: true });
    return r.stdout === 'True';
  });
});

test('a wrong hash refuses to join, naming both hashes', async () => {
  const wrong = `sha256:${'0'.repeat(64)}`;
  const r = await agentRefuses(['--server', c.url, '--token', c.token, '--discovery-token-ca-cert-hash', wrong]);
  assert.equal(r.code, 1, r.output);
  assert.match(r.output, /refusing to join/);
  assert.ok(r.output.includes(`its CA's hash is ${c.caCertHash}`), r.output);
  assert.ok(r.output.includes(`does not match --discovery-token-ca-cert-hash ${wrong}`), r.output);
});

test('no hash and no CA file refuses, naming the flags', async () => {
  const r = await agentRefuses(['--server', c.url, '--token', c.token]);
  assert.equal(r.code, 2, r.output);
  assert.match(r.output, /--discovery-token-ca-cert-hash sha256:<hex>/);
  assert.match(r.output, /--ca-file FILE/);
  assert.match(r.output, /--discovery-token-unsafe-skip-ca-verification/);
});

test('a malformed hash, or a CA file that does not match the hash, refuses', async () => {
  const short = await agentRefuses(['--server', c.url, '--token', c.token, '--discovery-token-ca-cert-hash', 'sha256:abcd']);
  assert.equal(short.code, 2, short.output);
  assert.match(short.output, /a sha256 hash is 64 hex digits, not 4/);
  const md5 = await agentRefuses(['--server', c.url, '--token', c.token, '--discovery-token-ca-cert-hash', `md5:${'a'.repeat(32)}`]);
  assert.equal(md5.code, 2, md5.output);
  assert.match(md5.output, /unknown hash format "md5"/);
  const wrong = `sha256:${'f'.repeat(64)}`;
  const file = await agentRefuses(['--server', c.url, '--token', c.token, '--ca-file', join(c.dataDir, 'pki', 'ca.crt'), '--discovery-token-ca-cert-hash', wrong]);
  assert.equal(file.code, 1, file.output);
  assert.ok(file.output.includes(`its hash ${c.caCertHash} does not match --discovery-token-ca-cert-hash ${wrong}`), file.output);
});

test('--ca-file alone, or the explicit unsafe skip, still joins (the skip with a warning)', async () => {
  for (const [what, trustFlags] of [
    ['ca-file', ['--ca-file', join(c.dataDir, 'pki', 'ca.crt')]],
    ['unsafe skip', ['--discovery-token-unsafe-skip-ca-verification']],
  ] as const) {
    const agent = await startAgentProcess({ url: c.url, token: c.token, caCertHash: c.caCertHash, nodeName: `trust-${suffix()}`, trustFlags: [...trustFlags] });
    try {
      assert.match(agent.proc.output(), /registered/, what);
      if (what === 'unsafe skip') assert.match(agent.proc.output(), /warning: the API server is not verified/);
      else assert.ok(!agent.proc.output().includes('warning'), agent.proc.output());
    } finally {
      await agent.stop();
    }
  }
});
