// `tug image bootstrap debian:bookworm` (mmdebstrap against this host's Debian
// mirror), then a Dockerfile on it that installs a package with apt. Needs the
// mirror; the first run takes minutes. The bootstrapped rootfs tarball is kept
// in /var/cache/tug-test/bootstrap and reused by later runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildEnv, rand, type BuildEnv } from './helpers.js';

let e: BuildEnv;
before(async () => {
  // The daemon inherits this: the machine-wide test cache of bootstrapped rootfs tarballs.
  process.env.TUG_BOOTSTRAP_CACHE = '/var/cache/tug-test/bootstrap';
  e = await buildEnv();
});
after(async () => {
  await e?.close();
});

test('bootstrap debian:bookworm, then FROM debian:bookworm + apt-get install builds and runs', async () => {
  const unknown = await e.tug(['image', 'bootstrap', 'alpine:3']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /cannot bootstrap "alpine:3": supported are debian:bookworm/);

  const boot = await e.tug(['image', 'bootstrap', 'debian:bookworm']);
  assert.equal(boot.code, 0, boot.stderr);
  assert.match(boot.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const os = await e.tug(['run', '--rm', 'debian:bookworm', 'cat', '/etc/debian_version']);
  assert.match(os.stdout, /^12\./, os.stderr);

  const ctx = await e.context({
    Dockerfile: `FROM debian:bookworm
RUN apt-get update \\
 && apt-get install -y --no-install-recommends cowsay \\
 && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/games:$PATH
CMD ["cowsay", "built by tug"]
`,
  });
  const tag = `cowsay-${rand()}:1`;
  const r = await e.tug(['build', '--progress=plain', '-t', tag, ctx]);
  assert.equal(r.code, 0, r.stderr + r.stdout.slice(-3000));
  assert.match(r.stdout, /Setting up cowsay/);
  const run = await e.tug(['run', '--rm', tag]);
  assert.match(run.stdout, /< built by tug >/, run.stderr);
  const dpkg = await e.tug(['run', '--rm', tag, 'dpkg', '-s', 'cowsay']);
  assert.match(dpkg.stdout, /^Status: install ok installed$/m, dpkg.stderr);
  await e.tug(['rmi', tag]);
  await e.assertClean();
});
