// Real-world-shaped Dockerfiles through `tug build` on a real daemon: a
// multi-stage shell/awk "app" built in one stage and copied into another, the
// config instructions, --target, and the errors a user meets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildEnv, rand, type BuildEnv } from './helpers.js';

let e: BuildEnv;
before(async () => {
  e = await buildEnv();
});
after(async () => {
  await e?.close();
});

const APP_DOCKERFILE = `# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM \${BASE} AS build
WORKDIR /src
COPY report.awk data/ ./
# "compile": check the awk program parses, then bundle it with a launcher
RUN awk -f report.awk /dev/null > /dev/null \\
 && mkdir -p /out/bin \\
 && { echo '#!/bin/sh'; echo 'exec awk -f /opt/app/report.awk "$@"'; } > /out/bin/report \\
 && chmod 755 /out/bin/report \\
 && cp report.awk /out/

FROM busybox AS test
COPY --from=build /out /opt/app
COPY data/sales.csv /tmp/
RUN /opt/app/bin/report /tmp/sales.csv | grep -q 'total 60'

FROM busybox
ARG VERSION=0.0.0
LABEL org.opencontainers.image.version=$VERSION maintainer="ops team"
ENV APP_HOME=/opt/app PATH=/opt/app/bin:$PATH
COPY --from=build --chmod=0755 /out $APP_HOME
COPY --chown=nobody:nobody data/sales.csv /data/
USER nobody
WORKDIR /data
EXPOSE 8080/tcp 9000
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=2 CMD report sales.csv
VOLUME ["/data/out"]
ENTRYPOINT ["report"]
CMD ["sales.csv"]
`;

const FILES = {
  Dockerfile: APP_DOCKERFILE,
  'report.awk': 'BEGIN { FS="," } NR > 1 { sum += $2 } END { printf "total %d\\n", sum }\n',
  'data/sales.csv': 'item,amount\na,10\nb,20\nc,30\n',
};

test('a multi-stage awk app builds, runs, and carries its config', async () => {
  const ctx = await e.context(FILES);
  const tag = `app-${rand()}:1`;
  const r = await e.tug(['build', '--progress=plain', '-t', tag, '--build-arg', 'VERSION=1.2.3', ctx]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Successfully tagged app-/);
  const run = await e.tug(['run', '--rm', tag]);
  assert.equal(run.stdout, 'total 60\n', run.stderr);
  const who = await e.tug(['run', '--rm', '--entrypoint', 'sh', tag, '-c', 'id -u; stat -c %U /data/sales.csv; pwd; stat -c %a /opt/app/bin/report']);
  assert.equal(who.stdout, '65534\nnobody\n/data\n755\n', who.stderr);
  const cfg = JSON.parse((await e.tug(['image', 'inspect', tag])).stdout)[0].Config;
  assert.equal(cfg.Labels['org.opencontainers.image.version'], '1.2.3');
  assert.equal(cfg.Labels.maintainer, 'ops team');
  assert.deepEqual(cfg.Entrypoint, ['report']);
  assert.deepEqual(cfg.Cmd, ['sales.csv']);
  assert.equal(cfg.User, 'nobody');
  assert.equal(cfg.WorkingDir, '/data');
  assert.equal(cfg.StopSignal, 'SIGINT');
  assert.deepEqual(Object.keys(cfg.ExposedPorts).sort(), ['8080/tcp', '9000/tcp']);
  assert.deepEqual(Object.keys(cfg.Volumes), ['/data/out']);
  assert.deepEqual(cfg.Healthcheck.Test, ['CMD-SHELL', 'report sales.csv']);
  assert.equal(cfg.Healthcheck.Interval, 5e9);
  assert.ok(cfg.Env.includes('APP_HOME=/opt/app'));
  assert.ok(cfg.Env.some((v: string) => v.startsWith('PATH=/opt/app/bin:/')));
  // The final stage does not need the test stage: it is never built.
  assert.doesNotMatch(r.stdout, /grep -q 'total 60'/);
  // History has one entry per instruction, layers line up with diff_ids.
  const hist = await e.tug(['history', '--no-trunc', '--format', '{{.CreatedBy}}', tag]);
  assert.match(hist.stdout, /CMD \["sales.csv"\]/);
  await e.tug(['rmi', tag]);
  await e.assertClean();
});

test('--target builds the named stage and what it needs', async () => {
  const ctx = await e.context(FILES);
  const tag = `app-${rand()}:test`;
  const r = await e.tug(['build', '--progress=plain', '--target', 'test', '-t', tag, ctx]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /grep -q 'total 60'/);
  assert.doesNotMatch(r.stdout, /HEALTHCHECK/);
  const missing = await e.tug(['build', '--target', 'nope', ctx]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /target stage "nope" could not be found/);
  await e.tug(['rmi', tag]);
  await e.assertClean();
});

test('a failed RUN names file:line, shows the output and exit code, and leaves nothing behind', async () => {
  const ctx = await e.context({ Dockerfile: 'FROM busybox\nRUN echo preparing\nRUN echo "about to fail" && touch /tmp/x && exit 7\nRUN echo never\n' });
  const r = await e.tug(['build', '--progress=plain', ctx]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /about to fail/);
  assert.match(r.stderr, /Dockerfile:3: RUN echo "about to fail".*returned a non-zero code: 7/);
  assert.doesNotMatch(r.stdout, /never/);
  await e.assertClean();
});

test('bad input: parse errors with line numbers, missing files, paths outside the context, missing base images', async () => {
  const parse = await e.tug(['build', await e.context({ Dockerfile: 'FROM busybox\n\nRUN true\nCOPPY a b\n' })]);
  assert.equal(parse.code, 1);
  assert.match(parse.stderr, /Dockerfile:4: unknown instruction: COPPY/);
  const outside = await e.tug(['build', await e.context({ Dockerfile: 'FROM busybox\nCOPY ../../etc/passwd /x\n' })]);
  assert.equal(outside.code, 1);
  assert.match(outside.stderr, /Dockerfile:2: .*forbidden path outside the build context: \.\.\/\.\.\/etc\/passwd/);
  const missingFile = await e.tug(['build', await e.context({ Dockerfile: 'FROM busybox\nCOPY nothere.txt /x\n' })]);
  assert.equal(missingFile.code, 1);
  assert.match(missingFile.stderr, /Dockerfile:2: .*file not found in build context.*nothere\.txt/);
  const missingStage = await e.tug(['build', await e.context({ Dockerfile: 'FROM busybox\nCOPY --from=builder /a /a\nFROM busybox AS builder\n' })]);
  assert.equal(missingStage.code, 1);
  assert.match(missingStage.stderr, /Dockerfile:2: COPY --from=builder refers to a stage that is not defined before this one/);
  const noBase = await e.tug(['build', await e.context({ Dockerfile: 'FROM debian:bookworm\nRUN true\n' })]);
  assert.equal(noBase.code, 1);
  assert.match(noBase.stderr, /Dockerfile:1: FROM debian:bookworm: image not found locally; make it with "tug image bootstrap debian:bookworm"/);
  const noFrom = await e.tug(['build', await e.context({ Dockerfile: '# nothing\nENV A=1\n' })]);
  assert.equal(noFrom.code, 1);
  assert.match(noFrom.stderr, /Dockerfile:2: no build stage/);
  await e.assertClean();
});

test('FROM scratch, SHELL, heredocs, exec form, ADD of a local tar, .dockerignore', async () => {
  const { runTool } = await import('../../src/util/exec-file.js');
  const ctx = await e.context({
    Dockerfile: `FROM busybox AS tools
SHELL ["/bin/sh", "-e", "-c"]
RUN <<EOF
mkdir -p /out
echo from-heredoc > /out/h.txt
EOF
RUN ["sh", "-c", "echo exec-form > /out/e.txt"]
COPY <<'CONF' /out/app.conf
literal=$NOT_EXPANDED
CONF
ADD bundle.tar.gz /out/unpacked/
COPY . /out/ctx/

FROM scratch
COPY --from=tools /out /
`,
    '.dockerignore': '*.log\n!important.log\nsecret/\n**/tmp-*\n',
    'keep.txt': 'kept\n',
    'noise.log': 'x',
    'important.log': 'y',
    'secret/key': 'k',
    'deep/dir/tmp-1': 'z',
    'deep/dir/real': 'r',
  });
  const src = await e.context({ 'inner/file.txt': 'from tar\n' });
  await runTool('tar', ['-czf', `${ctx}/bundle.tar.gz`, '-C', src, 'inner']);
  const tag = `scratch-${rand()}:1`;
  const r = await e.tug(['build', '--progress=plain', '-t', tag, ctx]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const inspect = JSON.parse((await e.tug(['image', 'inspect', tag])).stdout)[0];
  assert.equal(inspect.RootFS.Layers.length, 1, 'FROM scratch + one COPY is one layer');
  // A scratch image has no shell: look at it from a busybox image that copies it in.
  const checkTag = `check-${rand()}:1`;
  const check = await e.tug(['build', '-q', '-t', checkTag, await e.context({ Dockerfile: `FROM busybox\nCOPY --from=${tag} / /check/\n` })]);
  assert.equal(check.code, 0, check.stderr);
  const ls = await e.tug(['run', '--rm', checkTag, 'sh', '-c', 'cd /check && find . -type f | sort && cat h.txt e.txt app.conf unpacked/inner/file.txt']);
  assert.equal(ls.stdout, [
    './app.conf', './ctx/.dockerignore', './ctx/Dockerfile', './ctx/bundle.tar.gz', './ctx/deep/dir/real', './ctx/important.log', './ctx/keep.txt',
    './e.txt', './h.txt', './unpacked/inner/file.txt',
    'from-heredoc', 'exec-form', 'literal=$NOT_EXPANDED', 'from tar', '',
  ].join('\n'), ls.stderr);
  await e.tug(['rmi', tag, checkTag]);
  await e.assertClean();
});

test('independent stages build at the same time; a failing stage lets the others finish and leaves nothing', async () => {
  // Each stage waits (bounded) for the other's marker in a shared cache mount:
  // only a concurrent build of the two stages can succeed.
  const id = `sync-${rand()}`;
  const waitFor = (me: string, other: string): string =>
    `RUN --mount=type=cache,id=${id},target=/s touch /s/${me} && i=0; while [ ! -f /s/${other} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; test -f /s/${other} && echo ${me}-saw-${other} > /${me}`;
  const ctx = await e.context({
    Dockerfile: `FROM busybox AS left\n${waitFor('left', 'right')}\nFROM busybox AS right\n${waitFor('right', 'left')}\nFROM busybox\nCOPY --from=left /left /\nCOPY --from=right /right /\nCMD ["cat", "/left", "/right"]\n`,
  });
  const tag = `parallel-${rand()}:1`;
  const r = await e.tug(['build', '--progress=plain', '-t', tag, ctx]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal((await e.tug(['run', '--rm', tag])).stdout, 'left-saw-right\nright-saw-left\n');
  await e.tug(['rmi', tag]);

  const failing = await e.context({
    Dockerfile: 'FROM busybox AS slow\nRUN sleep 2 && echo slow-done > /slow\nFROM busybox AS broken\nRUN exit 5\nFROM busybox\nCOPY --from=slow /slow /\nCOPY --from=broken / /b\n',
  });
  const f = await e.tug(['build', '--progress=plain', failing]);
  assert.equal(f.code, 1);
  assert.match(f.stderr, /Dockerfile:4: RUN exit 5: .*non-zero code: 5/);
  await e.assertClean();
});
