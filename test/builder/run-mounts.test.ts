// RUN --mount (cache kept between builds, secrets never in the image, bind from
// the context and from another stage) and RUN --network=none, on a real daemon.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildEnv, rand, type BuildEnv } from './helpers.js';

let e: BuildEnv;
before(async () => {
  e = await buildEnv();
});
after(async () => {
  await e?.close();
});

test('a cache mount keeps its content between builds and stays out of the image', async () => {
  // A "package manager" that downloads into a cache dir only what is missing.
  const dockerfile = `FROM busybox
COPY wanted.txt /wanted.txt
RUN --mount=type=cache,target=/var/cache/pkgs \\
    for p in $(cat /wanted.txt); do \\
      if [ -f /var/cache/pkgs/$p ]; then echo "cached $p"; else echo "fetch $p"; echo "pkg $p" > /var/cache/pkgs/$p; fi; \\
      cp /var/cache/pkgs/$p /installed-$p; \\
    done
`;
  const ctx = await e.context({ Dockerfile: dockerfile, 'wanted.txt': 'alpha beta\n' });
  const first = await e.tug(['build', '--progress=plain', ctx]);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.match(first.stdout, /^fetch alpha$/m);
  assert.match(first.stdout, /^fetch beta$/m);
  await writeFile(join(ctx, 'wanted.txt'), 'alpha beta gamma\n');
  const tag = `cachemount-${rand()}:1`;
  const second = await e.tug(['build', '--progress=plain', '-t', tag, ctx]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^cached alpha$/m);
  assert.match(second.stdout, /^cached beta$/m);
  assert.match(second.stdout, /^fetch gamma$/m);
  const ls = await e.tug(['run', '--rm', tag, 'sh', '-c', 'ls /installed-*; ls -A /var/cache/pkgs 2>/dev/null | wc -l']);
  assert.equal(ls.stdout, '/installed-alpha\n/installed-beta\n/installed-gamma\n0\n', ls.stderr);
  await e.tug(['rmi', tag]);
  await e.assertClean();
});

test('a secret is readable by its RUN only: not in the layer, not in history, not in the cache key', async () => {
  const secretFile = join(e.tmp, `token-${rand()}`);
  await writeFile(secretFile, 's3cr3t-value\n');
  const ctx = await e.context({
    Dockerfile: `FROM busybox
RUN --mount=type=secret,id=api_token \\
    wc -c < /run/secrets/api_token > /token-len
RUN --mount=type=secret,id=other,target=/etc/app-token,required=true cat /etc/app-token > /dev/null
`,
  });
  const missing = await e.tug(['build', '--progress=plain', '--secret', `id=api_token,src=${secretFile}`, ctx]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Dockerfile:4: secret other is required/);
  const tag = `secret-${rand()}:1`;
  const r = await e.tug(['build', '--progress=plain', '-t', tag, '--secret', `id=api_token,src=${secretFile}`, '--secret', `id=other,src=${secretFile}`, ctx]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const check = await e.tug(['run', '--rm', tag, 'sh', '-c', 'cat /token-len; ls /run/secrets 2>&1; ls /etc/app-token 2>&1; grep -r s3cr3t / --exclude-dir=proc --exclude-dir=sys -l 2>/dev/null | wc -l']);
  assert.match(check.stdout, /^ *13\n/);
  assert.doesNotMatch(check.stdout, /api_token/);
  assert.match(check.stdout, /No such file/);
  assert.match(check.stdout, /\n0\n$/);
  const hist = await e.tug(['history', '--no-trunc', tag]);
  assert.doesNotMatch(hist.stdout, /s3cr3t/);
  await e.tug(['rmi', tag]);
  await e.assertClean();
});

test('RUN --network=none has only loopback; the default has the bridge', async () => {
  const ctx = await e.context({
    Dockerfile: `FROM busybox
RUN --network=none ip -o link | grep -v ' lo' | wc -l > /none-links
RUN ip -o -4 addr | grep -v ' lo' | wc -l > /default-addrs
RUN --mount=type=bind,source=conf,target=/mnt/conf cat /mnt/conf/app.ini > /app.ini
FROM busybox AS other
RUN echo from-other > /note
FROM 0
RUN --mount=type=bind,from=other,source=/note,target=/other-note cp /other-note /note
`,
    'conf/app.ini': 'mode=bound\n',
  });
  const tag = `net-${rand()}:1`;
  const r = await e.tug(['build', '--progress=plain', '-t', tag, ctx]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const out = await e.tug(['run', '--rm', tag, 'sh', '-c', 'cat /none-links /default-addrs /app.ini /note; ls /mnt/conf 2>&1 | head -1']);
  assert.equal(out.stdout.split('\n').slice(0, 4).join('\n'), '0\n1\nmode=bound\nfrom-other', out.stderr);
  assert.match(out.stdout, /No such file/);
  await e.tug(['rmi', tag]);
  await e.assertClean();
});
