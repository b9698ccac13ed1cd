// The build cache: a rebuild with nothing changed does no work, a changed file
// reruns only the steps after it, --no-cache, the cache survives a daemon
// crash and restart, builder prune empties it, SOURCE_DATE_EPOCH reproduces.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildEnv, cachedSteps, rand, ranSteps, type BuildEnv } from './helpers.js';

let e: BuildEnv;
before(async () => {
  e = await buildEnv();
});
after(async () => {
  await e?.close();
});

const DOCKERFILE = `FROM busybox AS deps
WORKDIR /app
COPY deps.txt .
RUN sort deps.txt > deps.lock && echo resolved
FROM busybox
WORKDIR /srv
COPY --from=deps /app/deps.lock .
COPY src/ ./src/
RUN cat src/*.sh > app.sh && chmod +x app.sh && echo bundled
CMD ["sh", "./app.sh"]
`;

const idOf = (log: string): string => /Successfully built ([0-9a-f]{12})/.exec(log)?.[1] ?? '';

test('cache: unchanged rebuild, one changed file, --no-cache, crash and restart, prune', async () => {
  const ctx = await e.context({ Dockerfile: DOCKERFILE, 'deps.txt': 'b\na\n', 'src/a.sh': 'echo a\n', 'src/b.sh': 'echo b\n' });
  const tag = `cache-${rand()}:1`;
  const cold = await e.tug(['build', '--progress=plain', '-t', tag, ctx]);
  assert.equal(cold.code, 0, cold.stderr + cold.stdout);
  assert.equal(ranSteps(cold.stdout), 2);
  assert.equal(cachedSteps(cold.stdout), 0);

  const warm = await e.tug(['build', '--progress=plain', '-t', tag, ctx]);
  assert.equal(warm.code, 0, warm.stderr);
  assert.equal(ranSteps(warm.stdout), 0, 'a rebuild with nothing changed runs nothing');
  assert.equal(cachedSteps(warm.stdout), 8, 'every non-FROM step is served from the cache');
  assert.equal(idOf(warm.stdout), idOf(cold.stdout));

  // Touching a file (same content) is not a change; editing one is, and only later steps rerun.
  await writeFile(join(ctx, 'src/a.sh'), 'echo a\n');
  assert.equal(cachedSteps((await e.tug(['build', '--progress=plain', ctx])).stdout), 8);
  await writeFile(join(ctx, 'src/b.sh'), 'echo B changed\n');
  const changed = await e.tug(['build', '--progress=plain', '-t', tag, ctx]);
  assert.equal(changed.code, 0, changed.stderr);
  assert.equal(cachedSteps(changed.stdout), 5, 'the deps stage and the steps before COPY src/ stay cached');
  assert.equal(ranSteps(changed.stdout), 1);
  assert.doesNotMatch(changed.stdout, /^resolved$/m);
  assert.match(changed.stdout, /^bundled$/m);
  assert.equal((await e.tug(['run', '--rm', tag])).stdout, 'a\nB changed\n');

  const nocache = await e.tug(['build', '--progress=plain', '--no-cache', ctx]);
  assert.equal(nocache.code, 0, nocache.stderr);
  assert.equal(cachedSteps(nocache.stdout), 0);
  assert.equal(ranSteps(nocache.stdout), 2);

  // The cache is on disk under the root: a crashed and restarted daemon still has it.
  await e.d.crash();
  await e.d.restart();
  const afterRestart = await e.tug(['build', '--progress=plain', ctx]);
  assert.equal(afterRestart.code, 0, afterRestart.stderr);
  assert.equal(ranSteps(afterRestart.stdout), 0);
  assert.equal(cachedSteps(afterRestart.stdout), 8);

  const prune = await e.tug(['builder', 'prune', '-f']);
  assert.equal(prune.code, 0, prune.stderr);
  assert.match(prune.stdout, /Total reclaimed space/);
  const afterPrune = await e.tug(['build', '--progress=plain', ctx]);
  assert.equal(cachedSteps(afterPrune.stdout), 0);
  assert.equal(ranSteps(afterPrune.stdout), 2);
  await e.tug(['rmi', tag]);
  await e.assertClean();
});

test('build args are part of the key; SOURCE_DATE_EPOCH sets the times', async () => {
  const ctx = await e.context({
    Dockerfile: 'FROM busybox\nARG FLAVOUR=plain\nCOPY data.txt /data.txt\nRUN echo "$FLAVOUR" > /flavour\nENV READY=1\n',
    'data.txt': 'payload\n',
  });
  const a = await e.tug(['build', '--progress=plain', '--build-arg', 'FLAVOUR=x', ctx]);
  const b = await e.tug(['build', '--progress=plain', '--build-arg', 'FLAVOUR=y', ctx]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(ranSteps(b.stdout), 1, 'a different build arg reruns the RUN that sees it');
  assert.notEqual(idOf(a.stdout), idOf(b.stdout));
  const r1 = await e.tug(['build', '-q', '--no-cache', '--build-arg', 'SOURCE_DATE_EPOCH=1700000000', '--build-arg', 'FLAVOUR=z', ctx]);
  assert.equal(r1.code, 0, r1.stderr);
  assert.match(r1.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const img = JSON.parse((await e.tug(['image', 'inspect', r1.stdout.trim()])).stdout)[0];
  assert.equal(img.Created, '2023-11-14T22:13:20Z');
  // File times in the layers are clamped to the epoch.
  const times = await e.tug(['run', '--rm', r1.stdout.trim(), 'stat', '-c', '%Y', '/data.txt', '/flavour']);
  assert.equal(times.stdout, '1700000000\n1700000000\n', times.stderr);
  await e.assertClean();
});
