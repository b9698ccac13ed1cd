// The image's config as a container's defaults (dockerd's merge()), without a
// daemon: what each client really sends for "not given" ("" from the docker
// CLI, null from docker-py, absent from tug's callers) must inherit the
// image's value, and the Kubernetes and build callers keep their own rules.
// The end-to-end checks through the docker CLI, docker-py and tug are in
// image-defaults.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeImageDefaults as mergeSpec, type ImageDefaults } from '../../src/engine/image-merge.js';
import { buildRecord } from '../../src/engine/create-config.js';
import { containerSpecFromBody } from '../../src/engine-api/create-body.js';
import { podContainerSpec } from '../../src/node/agent/container-config.js';
import type { Pod, PodContainer } from '../../src/node/agent/pod-types.js';
import { TugError } from '../../src/errdefs.js';

const image: ImageDefaults = {
  User: 'app',
  Env: ['PATH=/usr/bin:/bin', 'SHARED=image', 'IMG_ONLY=1'],
  Cmd: ['default-cmd'],
  Entrypoint: ['/bin/echo', 'ep'],
  WorkingDir: '/srv',
  ExposedPorts: { '8080/tcp': {} },
  Volumes: { '/srv/data': {} },
  Labels: { from: 'image', shared: 'image' },
  StopSignal: 'SIGUSR1',
  Healthcheck: { Test: ['CMD', 'true'], Interval: 3_600_000_000_000, Retries: 4 },
};

/** A create body as a client sends it, through the API's conversion to a ContainerSpec, merged with the image. */
function mergeImageDefaults(req: object, img: ImageDefaults): ReturnType<typeof mergeSpec> {
  return mergeSpec(containerSpecFromBody({ Image: 'app:1', ...req }), img);
}

// What `docker create IMAGE` sends (cli/command/container/opts.go), and what docker-py sends.
const dockerCli = { User: '', Env: [], Cmd: null, Entrypoint: null, WorkingDir: '', Volumes: {}, Labels: {} };
const dockerPy = { User: null, Env: null, Cmd: null, Entrypoint: null, WorkingDir: null, Volumes: null, Labels: null, ExposedPorts: null, StopSignal: null, Healthcheck: null };

test('empty request fields take the image values, whichever client sent them', () => {
  for (const req of [dockerCli, dockerPy, {}]) {
    const m = mergeImageDefaults(req, image);
    assert.equal(m.User, 'app', `User from ${JSON.stringify(req)}`);
    assert.deepEqual(m.Env, image.Env);
    assert.deepEqual(m.Cmd, ['default-cmd']);
    assert.deepEqual(m.Entrypoint, ['/bin/echo', 'ep']);
    assert.equal(m.WorkingDir, '/srv');
    assert.deepEqual(m.ExposedPorts, { '8080/tcp': {} });
    assert.deepEqual(m.Volumes, { '/srv/data': {} });
    assert.deepEqual(m.Labels, { from: 'image', shared: 'image' });
    assert.equal(m.StopSignal, 'SIGUSR1');
    assert.deepEqual(m.Healthcheck, image.Healthcheck);
  }
  // An image without these fields leaves the container's empty, not undefined where Docker has "".
  const bare = mergeImageDefaults({ ...dockerCli, Cmd: ['sh'] }, {});
  assert.equal(bare.User, '');
  assert.equal(bare.WorkingDir, '');
  assert.equal(bare.StopSignal, undefined);
});

test('set request fields win; Env, Labels, ExposedPorts, Volumes and Healthcheck merge key by key', () => {
  const m = mergeImageDefaults(
    {
      User: '0',
      Env: ['SHARED=user', 'NEW=2'],
      WorkingDir: '/tmp',
      ExposedPorts: { '7000/tcp': {} },
      Volumes: { '/extra': {} },
      Labels: { shared: 'user' },
      StopSignal: 'SIGTERM',
      Healthcheck: { Interval: 2_000_000_000 },
    },
    image,
  );
  assert.equal(m.User, '0');
  // dockerd's order: the request's variables, then the image's it did not set.
  assert.deepEqual(m.Env, ['SHARED=user', 'NEW=2', 'PATH=/usr/bin:/bin', 'IMG_ONLY=1']);
  assert.equal(m.WorkingDir, '/tmp');
  assert.deepEqual(Object.keys(m.ExposedPorts).sort(), ['7000/tcp', '8080/tcp']);
  assert.deepEqual(Object.keys(m.Volumes).sort(), ['/extra', '/srv/data']);
  assert.deepEqual(m.Labels, { from: 'image', shared: 'user' });
  assert.equal(m.StopSignal, 'SIGTERM');
  assert.deepEqual(JSON.parse(JSON.stringify(m.Healthcheck)), { Test: ['CMD', 'true'], Interval: 2_000_000_000, Retries: 4 });
});

test("ENTRYPOINT/CMD: a request's entrypoint drops the image's CMD; [] and [\"\"] are not null", () => {
  const cmdOf = (req: object): [string[] | null, string[] | null] => {
    const m = mergeImageDefaults(req, image);
    return [m.Entrypoint, m.Cmd];
  };
  assert.deepEqual(cmdOf({ Cmd: ['x'] }), [['/bin/echo', 'ep'], ['x']]);
  assert.deepEqual(cmdOf({ Cmd: [] }), [['/bin/echo', 'ep'], ['default-cmd']], 'an empty Cmd is not given');
  assert.deepEqual(cmdOf({ Entrypoint: ['/bin/sh'] }), [['/bin/sh'], null], 'the image CMD belongs to the image ENTRYPOINT');
  assert.deepEqual(cmdOf({ Entrypoint: '/bin/sh', Cmd: ['-c', 'true'] }), [['/bin/sh'], ['-c', 'true']]);
  assert.deepEqual(cmdOf({ Entrypoint: [] }), [[], ['default-cmd']], '[] resets the entrypoint but keeps the image CMD');
  assert.deepEqual(cmdOf({ Entrypoint: [''], Cmd: ['echo', 'hi'] }), [null, ['echo', 'hi']], '--entrypoint "" means none');
  assert.throws(() => cmdOf({ Entrypoint: [''] }), (e: unknown) => e instanceof TugError && e.kind === 'invalid' && /no command specified/.test(e.message));
  assert.throws(() => mergeImageDefaults({ Cmd: [] }, {}), /no command specified/);
  assert.throws(() => mergeImageDefaults({ User: 0 }, image), /User must be a string/);
  assert.throws(() => mergeImageDefaults({ Cmd: [1] }, image), /Cmd must be a string or an array of strings/);
});

const pod = (securityContext?: object): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [], securityContext } }) as unknown as Pod;

function podRecord(container: Partial<PodContainer>, imageUser: string, podSc?: object): ReturnType<typeof buildRecord>['record'] {
  const spec = podContainerSpec({
    pod: pod(podSc),
    container: { name: 'c', image: 'app:1', ...container } as PodContainer,
    role: 'app',
    attempt: 0,
    sandbox: { id: 'a'.repeat(64), labels: {}, hostname: 'p', network: 'pod', ipc: 'pod', pid: 'container', created: '', state: 'ready', netnsPath: '/run/x/net', ipcPath: '/run/x/ipc', utsPath: '/run/x/uts', ip: '10.0.0.2', prefixLen: 24, gateway: '10.0.0.1', mac: '' },
    env: ['K8S=1'],
    dns: {},
    volumes: new Map(),
    imageUser,
  });
  return buildRecord({ name: '/c', spec, image: { id: 'sha256:' + 'b'.repeat(64), config: { ...image, User: imageUser } }, imageRef: 'app:1' }).record;
}

test("pods: the image's USER applies unless runAsUser overrides it; command/args follow Kubernetes", () => {
  assert.equal(podRecord({}, 'app').Config.User, 'app');
  assert.equal(podRecord({ securityContext: { runAsUser: 0 } }, 'app').Config.User, '0');
  assert.equal(podRecord({}, 'app', { runAsUser: 1234, runAsGroup: 2345 }).Config.User, '1234:2345');
  // runAsGroup alone keeps the image's user with that group (root when the image names none).
  assert.equal(podRecord({ securityContext: { runAsGroup: 50 } }, '1000:1000').Config.User, '1000:50');
  assert.equal(podRecord({ securityContext: { runAsGroup: 50 } }, '').Config.User, '0:50');
  const plain = podRecord({}, 'app');
  assert.deepEqual([plain.Path, ...plain.Args], ['/bin/echo', 'ep', 'default-cmd']);
  assert.equal(plain.Config.WorkingDir, '/srv');
  assert.deepEqual(plain.Config.Healthcheck?.Test, ['NONE'], "Kubernetes ignores the image's HEALTHCHECK");
  const command = podRecord({ command: ['sh', '-c'] }, 'app');
  assert.deepEqual([command.Path, ...command.Args], ['sh', '-c'], "command replaces ENTRYPOINT and drops the image's CMD");
  const args = podRecord({ args: ['x'] }, 'app');
  assert.deepEqual([args.Path, ...args.Args], ['/bin/echo', 'ep', 'x'], 'args replace CMD only');
});
