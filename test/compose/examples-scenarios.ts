// The two examples end to end, written once and driven by either compose
// (docker-compose 1.29.2 or bin/tug compose): the runner only has to exit 0;
// what happened is checked over HTTP and through the docker CLI.
//  - examples/compose-counter: the count rises per request, survives down/up
//    (the named volume), and starts again at 1 after down -v.
//  - examples/microservices: a message posted to the front goes through the
//    API onto RabbitMQ, the worker consumes it, and its result shows through
//    the front; the worker's log says so too.
import assert from 'node:assert/strict';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { runCommand } from '../helpers/run-command.js';
import type { TestDaemon } from '../helpers/tug-daemon.js';
import { freePort, http, httpUntil, type ComposeRunner, type ComposeRunnerFactory } from './compose-helpers.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const counterDir = join(repoRoot, 'examples', 'compose-counter');
export const microservicesDir = join(repoRoot, 'examples', 'microservices');

async function docker(d: TestDaemon, args: string[]): Promise<string> {
  const r = await runCommand('docker', args, { env: d.env });
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

async function ok(run: ComposeRunner, args: string[]): Promise<string> {
  const r = await run(args);
  assert.equal(r.code, 0, `compose ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /Traceback/);
  return r.stdout + r.stderr;
}

/** The container of a service, by compose's labels (both clients write them). */
async function serviceContainer(d: TestDaemon, project: string, service: string): Promise<string> {
  const id = await docker(d, ['ps', '-q', '--filter', `label=com.docker.compose.project=${project}`, '--filter', `label=com.docker.compose.service=${service}`]);
  assert.match(id, /^[0-9a-f]{12}$/, `one running container for ${project}/${service}, got ${JSON.stringify(id)}`);
  return id;
}

const seen = /^Hello World! I have been seen (\d+) times\.\n$/;

async function count(port: number): Promise<number> {
  const r = await httpUntil(port, (x) => x.status === 200 && seen.test(x.body));
  return Number(seen.exec(r.body)![1]);
}

export async function counterScenario(d: TestDaemon, make: ComposeRunnerFactory): Promise<void> {
  const project = `counter${randomBytes(3).toString('hex')}`;
  const port = await freePort();
  const run = make(d, counterDir, project, { WEB_PORT: `127.0.0.1:${port}` });
  try {
    await ok(run, ['up', '-d', '--build']);
    // web waited for redis' healthcheck (depends_on: service_healthy).
    const redis = await serviceContainer(d, project, 'redis');
    assert.equal(await docker(d, ['inspect', '-f', '{{.State.Health.Status}}', redis]), 'healthy');
    const first = await count(port);
    assert.equal(first, 1);
    assert.equal(await count(port), 2);
    assert.equal(await count(port), 3);

    await ok(run, ['down']);
    assert.equal(await docker(d, ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]), '');
    assert.match(await docker(d, ['volume', 'ls', '-q']), new RegExp(`^${project}_redis-data$`, 'm'), 'down keeps the named volume');
    await ok(run, ['up', '-d']);
    assert.equal(await count(port), 4, 'the count survived down/up on the named volume');

    await ok(run, ['down', '-v']);
    assert.doesNotMatch(await docker(d, ['volume', 'ls', '-q']), new RegExp(`^${project}_redis-data$`, 'm'), 'down -v removes it');
    await ok(run, ['up', '-d']);
    assert.equal(await count(port), 1, 'a new volume starts the count again');
  } finally {
    await run(['down', '-v', '--rmi', 'local', '-t', '1']);
  }
  assert.equal(await docker(d, ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]), '');
}

export async function microservicesScenario(d: TestDaemon, make: ComposeRunnerFactory): Promise<void> {
  const project = `micro${randomBytes(3).toString('hex')}`;
  const port = await freePort();
  const run = make(d, microservicesDir, project, { FRONT_PORT: `127.0.0.1:${port}` });
  try {
    await ok(run, ['up', '-d', '--build']);
    await httpUntil(port, (r) => r.status === 200);
    const text = `hello-${randomBytes(4).toString('hex')}`;
    // The front answers before the API may: post until the API has queued it.
    const until = Date.now() + 120_000;
    for (;;) {
      const r = await http(port, '/messages', 'POST', JSON.stringify({ text }));
      if (r?.status === 202) {
        assert.deepEqual(JSON.parse(r.body), { queued: text });
        break;
      }
      if (Date.now() > until) throw new Error(`the front never queued the message; last: ${JSON.stringify(r)}`);
      await new Promise((res) => setTimeout(res, 500));
    }
    const done = await httpUntil(port, (r) => r.status === 200 && r.body.includes(text), '/messages');
    const results = JSON.parse(done.body) as Array<{ text: string; result: string; worker: string }>;
    const mine = results.find((x) => x.text === text)!;
    assert.equal(mine.result, text.toUpperCase());
    const worker = await serviceContainer(d, project, 'worker');
    assert.ok(worker.startsWith(mine.worker.slice(0, 12)), 'the worker container did the work');
    const logs = await ok(run, ['logs', 'worker']);
    assert.match(logs, new RegExp(`worker: processed '${text}' -> '${text.toUpperCase()}'`));
  } finally {
    await run(['down', '-v', '--rmi', 'local', '-t', '1']);
  }
  assert.equal(await docker(d, ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]), '');
}
