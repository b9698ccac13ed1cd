// The one implementation of Dockerfile config instructions, read two ways:
// `commit/import --change` lines and the builder's Dockerfile instructions.
// Where they agree they must give the same config; where they have always
// differed (each a named field of the dialect) both sides are pinned here, as
// are the error messages each caller gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TugError } from '../../src/errdefs.js';
import type { OciContainerConfig } from '../../src/oci/image-spec.js';
import { applyChanges } from '../../src/image/config-changes.js';
import { applyConfigInstruction } from '../../src/builder/instruction-config.js';
import { parseDockerfile } from '../../src/builder/dockerfile-parser.js';

const base: OciContainerConfig = { Env: ['PATH=/bin', 'A=1'], Cmd: ['sh'], Labels: { x: 'y' } };
const vars = new Map([['P', '8080'], ['U', 'bob']]);

function build(line: string, cfg: OciContainerConfig = base, cmdSetHere = false): OciContainerConfig {
  const ins = parseDockerfile(line, 'Dockerfile').instructions[0]!;
  return applyConfigInstruction(cfg, ins, { vars, escape: '\\', where: 'Dockerfile:1', shell: ['/bin/sh', '-c'], cmdSetHere });
}

function refused(f: () => unknown, message: string): void {
  assert.throws(f, (e: unknown) => e instanceof TugError && e.kind === 'invalid' && e.message === message, message);
}

test('a change line and a Dockerfile line give the same config where the two agree', () => {
  for (const line of [
    'ENV A=2 B="c d"',
    'ENV C some value',
    'LABEL a=b c="d e"',
    'EXPOSE 80 53/udp 1000-1002/tcp',
    'VOLUME /a /b',
    'VOLUME ["/data", "/logs"]',
    'USER 1000',
    'STOPSIGNAL SIGINT',
    'CMD ["a", "b"]',
    'HEALTHCHECK NONE',
    'HEALTHCHECK CMD ["curl", "-f", "http://localhost/"]',
    'ONBUILD RUN make',
  ]) {
    assert.deepEqual(applyChanges(base, [line]), build(line), line);
  }
  assert.deepEqual(applyChanges(base, ['ENV A=2']).Env, ['PATH=/bin', 'A=2'], 'ENV replaces a key in place');
  assert.deepEqual(applyChanges(base, ['EXPOSE 1000-1001/UDP']).ExposedPorts, { '1000/udp': {}, '1001/udp': {} });
});

test('each reader keeps its own words: variables in a Dockerfile, none in a change line', () => {
  assert.deepEqual(build('EXPOSE $P').ExposedPorts, { '8080/tcp': {} });
  assert.equal(build('USER $U').User, 'bob');
  assert.equal(applyChanges(base, ['USER $U']).User, '$U');
  refused(() => applyChanges(base, ['EXPOSE $P']), 'invalid change: EXPOSE: invalid port "$P"');
});

test('the differences each reader has always had stay as they were', () => {
  // Shell-form CMD: the builder marks ArgsEscaped, a change line does not.
  assert.deepEqual(build('CMD echo hi'), { ...base, Cmd: ['/bin/sh', '-c', 'echo hi'], ArgsEscaped: true });
  assert.deepEqual(applyChanges(base, ['CMD echo hi']), { ...base, Cmd: ['/bin/sh', '-c', 'echo hi'] });
  // ENTRYPOINT drops an inherited Cmd in a Dockerfile (not one set in the same stage); a change line keeps it.
  assert.equal(build('ENTRYPOINT ["e"]').Cmd, null);
  assert.deepEqual(build('ENTRYPOINT ["e"]', base, true).Cmd, ['sh']);
  assert.deepEqual(applyChanges(base, ['ENTRYPOINT ["e"]']).Cmd, ['sh']);
  // Bare CMD / ENTRYPOINT in a change line empty them.
  assert.deepEqual(applyChanges(base, ['CMD']).Cmd, []);
  assert.equal(applyChanges({ Entrypoint: ['x'] }, ['ENTRYPOINT']).Entrypoint, null);
  // A change line reads an argument starting with '[' as JSON or refuses it; a Dockerfile falls back to shell form.
  assert.deepEqual(build('HEALTHCHECK CMD [ -f /ready ]').Healthcheck, { Test: ['CMD-SHELL', '[ -f /ready ]'] });
  refused(() => applyChanges(base, ['HEALTHCHECK CMD [ -f /ready ]']), 'invalid change: HEALTHCHECK: [ -f /ready ] is not a valid JSON array');
  // Port ranges are checked only for a change line.
  refused(() => applyChanges(base, ['EXPOSE 0']), 'invalid change: EXPOSE: invalid port range "0"');
  assert.deepEqual(build('EXPOSE 0').ExposedPorts, { '0/tcp': {} });
  // ONBUILD triggers are checked only in a Dockerfile.
  refused(() => build('ONBUILD FROM x'), "Dockerfile:1: FROM isn't allowed as an ONBUILD trigger");
  assert.deepEqual(applyChanges(base, ['ONBUILD FROM x']).OnBuild, ['FROM x']);
  // VOLUME: the builder refuses an empty list and blank paths, a change line only empty ones.
  refused(() => build('VOLUME []'), 'Dockerfile:1: VOLUME requires at least one path');
  assert.deepEqual(applyChanges(base, ['VOLUME ["  "]']).Volumes, { '  ': {} });
  refused(() => applyChanges(base, ['VOLUME [""]']), 'invalid change: VOLUME specified can not be an empty string');
  // ENV: the builder keeps one entry per key; a change line replaces the first in place.
  assert.deepEqual(build('ENV A=3', { Env: ['A=1', 'A=2', 'NOEQ'] }).Env, ['A=3']);
  assert.deepEqual(applyChanges({ Env: ['A=1', 'A=2', 'NOEQ'] }, ['ENV A=3']).Env, ['A=3', 'A=2', 'NOEQ']);
});

test('HEALTHCHECK options are read in a Dockerfile and refused in a change line', () => {
  assert.deepEqual(build('HEALTHCHECK --interval=5s --timeout=1m30s --retries=3 CMD true').Healthcheck, {
    Test: ['CMD-SHELL', 'true'],
    Interval: 5e9,
    Timeout: 90e9,
    Retries: 3,
  });
  refused(() => build('HEALTHCHECK --interval=5x CMD true'), 'Dockerfile:1: invalid duration "5x"');
  refused(() => build('HEALTHCHECK --retries=a CMD true'), 'Dockerfile:1: HEALTHCHECK --retries must be a whole number, got a');
  refused(() => build('HEALTHCHECK --foo=1 CMD true'), 'Dockerfile:1: HEALTHCHECK does not take the flag --foo');
  refused(() => build('HEALTHCHECK true'), 'Dockerfile:1: HEALTHCHECK must be NONE or [OPTIONS] CMD command');
  refused(
    () => applyChanges(base, ['HEALTHCHECK --interval=5s CMD true']),
    'invalid change: HEALTHCHECK: want NONE or CMD <command> (options are not supported here), got "--interval=5s CMD true"',
  );
});

test('bad input is refused in the voice of each caller', () => {
  refused(() => applyChanges(base, ['RUN rm -rf /']), 'invalid change: "RUN" is not a valid change command (allowed: CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR)');
  refused(() => applyChanges(base, ['USER']), 'invalid change: USER requires at least one argument');
  refused(() => applyChanges(base, ['CMD [x']), 'invalid change: CMD: [x is not a valid JSON array');
  refused(() => applyChanges(base, ['CMD [1]']), 'invalid change: CMD: want a JSON array of strings, got [1]');
  refused(() => applyChanges(base, ['ENV A']), 'invalid change: ENV A: want KEY=VALUE or KEY VALUE');
  refused(() => applyChanges(base, ['LABEL a=b =c']), 'invalid change: LABEL: "=c" is not KEY=VALUE');
  refused(() => applyChanges(base, ['LABEL a="b']), 'invalid change: unmatched " in "a=\\"b"');
  refused(() => applyChanges(base, ['STOPSIGNAL bad sig']), 'invalid change: STOPSIGNAL: invalid signal "bad sig"');
  refused(() => applyChanges(base, ['EXPOSE 80/foo']), 'invalid change: EXPOSE: invalid port "80/foo"');
  refused(() => build('STOPSIGNAL bad sig'), 'Dockerfile:1: STOPSIGNAL: invalid signal "bad sig"');
  refused(() => build('EXPOSE 80/foo'), 'Dockerfile:1: EXPOSE: invalid port "80/foo" (want PORT, PORT/tcp or PORT/udp)');
  refused(() => build('ENV A'), 'Dockerfile:1: ENV A needs a value (ENV KEY=VALUE or ENV KEY VALUE)');
  refused(() => build('LABEL a'), 'Dockerfile:1: LABEL names must be KEY=VALUE pairs, got "a"');
  refused(() => build('USER ""'), 'Dockerfile:1: USER requires a user name or UID');
  refused(() => build('SHELL bash'), 'Dockerfile:1: SHELL requires the arguments to be in JSON form, e.g. SHELL ["/bin/bash", "-c"]');
  refused(() => build('RUN true'), 'Dockerfile:1: RUN is not a config instruction');
  // A refused change leaves the caller's config as it was.
  const before = structuredClone(base);
  assert.throws(() => applyChanges(base, ['LABEL ok=1', 'EXPOSE nope']));
  assert.deepEqual(base, before);
});
