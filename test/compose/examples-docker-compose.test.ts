// examples/compose-counter and examples/microservices end to end through
// Debian's docker-compose 1.29.2 (DOCKER_HOST at the daemon) against one real tug daemon; the Debian base images come from the
// machine-wide test cache (test/helpers/debian-images.ts).
import { test, before, after } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../helpers/tug-daemon.js';
import { loadExampleImages, useBootstrapCache } from '../helpers/debian-images.js';
import { dockerComposeIn } from './compose-helpers.js';
import { counterScenario, microservicesScenario } from './examples-scenarios.js';

let d: TestDaemon;
before(async () => {
  useBootstrapCache();
  d = await startTestDaemon();
  await loadExampleImages(d, ['python-flask', 'redis', 'python-pika', 'rabbitmq']);
});
after(async () => {
  await d?.stop();
});

test('compose-counter: the count rises, survives down/up on its named volume, and restarts after down -v', async () => {
  await counterScenario(d, dockerComposeIn);
});

test('microservices: a message posted to the front is queued by the API and consumed by the worker', async () => {
  await microservicesScenario(d, dockerComposeIn);
});
