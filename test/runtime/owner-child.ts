// Child process for survive.test.ts: plays a daemon that creates and starts a
// container, reports it, then waits to be killed with SIGKILL. Does nothing
// unless run with --owner (node --test may load every file under test/).
import { Runtime } from '../../src/runtime/runtime.js';

async function main(): Promise<void> {
  const [, , flag, stateDir, id, bundleDir, logPath] = process.argv;
  if (flag !== '--owner' || !stateDir || !id || !bundleDir || !logPath) return;
  const rt = new Runtime({ stateDir });
  const { pid } = await rt.create(id, { bundleDir, tty: false, openStdin: false, logPath });
  await rt.start(id);
  process.stdout.write(JSON.stringify({ pid }) + '\n');
  setInterval(() => undefined, 1000); // stay alive until killed
}

void main();
