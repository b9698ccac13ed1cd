// SIGTERM/SIGINT for long-running commands (server, agent, daemon, registry),
// listened for from the moment a command starts, not from when it is ready:
// a supervisor or test that stops a process right after its "ready" line
// (or during its start) otherwise hits Node's default action, and the process
// dies without its shutdown (the node's bridge chains, pins and sockets stay).
const exitCodeOf = (sig: NodeJS.Signals): number => 128 + (sig === 'SIGINT' ? 2 : 15);

/**
 * Resolves with the first SIGTERM or SIGINT received from now on. A second
 * one ends the process at once when `repeatExits` (a stuck shutdown stays
 * interruptible), else it is ignored (a shutdown that must finish its cleanup).
 */
export function stopSignal(opts: { repeatExits: boolean }): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (received) {
        if (opts.repeatExits) process.exit(exitCodeOf(sig));
        return;
      }
      received = true;
      resolve(sig);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
