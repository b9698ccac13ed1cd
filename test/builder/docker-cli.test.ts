// `docker build` (the real docker CLI, legacy builder: DOCKER_BUILDKIT=0) against
// a tug daemon's /build endpoint: progress, tags, -q, build args, -f outside the
// context, failures; the image then runs through `docker run`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildEnv, rand, type BuildEnv, type Result } from './helpers.js';

let e: BuildEnv;
before(async () => {
  e = await buildEnv();
});
after(async () => {
  await e?.close();
});

function docker(args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { env: { ...e.d.env, DOCKER_BUILDKIT: '0', DOCKER_CONFIG: join(e.tmp, 'docker-config') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test('docker build through tug: multi-stage, tags, build args, cache, -q, docker run', async () => {
  const ctx = await e.context({
    Dockerfile: `FROM busybox AS gen
ARG NAME=world
RUN mkdir /out && echo "hello, $NAME" > /out/greeting
FROM busybox
COPY --from=gen /out/greeting /greeting
COPY motd.txt /etc/motd
CMD ["sh", "-c", "cat /greeting /etc/motd"]
`,
    'motd.txt': 'built by docker through tug\n',
  });
  const tag = `dockerbuild-${rand()}`;
  const r = await docker(['build', '-t', `${tag}:1`, '-t', `${tag}:latest`, '--build-arg', 'NAME=tug', ctx]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Step 1\/7 : FROM busybox AS gen/);
  assert.match(r.stdout, /Successfully built [0-9a-f]{12}/);
  assert.match(r.stdout, new RegExp(`Successfully tagged ${tag}:1`));
  assert.match(r.stdout, new RegExp(`Successfully tagged ${tag}:latest`));
  const run = await docker(['run', '--rm', `${tag}:1`]);
  assert.equal(run.stdout, 'hello, tug\nbuilt by docker through tug\n', run.stderr);
  const again = await docker(['build', '-q', '--build-arg', 'NAME=tug', ctx]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const inspect = await docker(['image', 'inspect', '-f', '{{.Id}}', `${tag}:1`]);
  assert.equal(inspect.stdout.trim(), again.stdout.trim(), 'a cached rebuild gives the same image');
  await docker(['rmi', `${tag}:1`, `${tag}:latest`]);
  await e.assertClean();
});

test('docker build through tug: -f outside the context, .dockerignore, a failing RUN', async () => {
  const ctx = await e.context({ 'app.txt': 'app\n', 'junk.tmp': 'junk\n', '.dockerignore': '*.tmp\n' });
  const df = join(e.tmp, `Dockerfile.${rand()}`);
  await writeFile(df, 'FROM busybox\nCOPY . /ctx/\nRUN ls /ctx | sort\nRUN echo "going down" && exit 42\n');
  const r = await docker(['build', '-f', df, ctx]);
  // The CLI exits with the stream's errorDetail.code, the RUN's own exit code (as against dockerd).
  assert.equal(r.code, 42);
  assert.match(r.stdout, /^app\.txt$/m);
  assert.doesNotMatch(r.stdout, /^junk\.tmp$/m);
  assert.match(r.stdout, /going down/);
  assert.match(r.stderr + r.stdout, /:4: RUN echo "going down" && exit 42: The command '\/bin\/sh -c echo "going down" && exit 42' returned a non-zero code: 42/);
  await e.assertClean();
});
