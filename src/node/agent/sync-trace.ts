// With TUG_TRACE set, the agent says when it saw each pod and how each sync of
// it went, and when each step of its own start and stop was done (wall-clock
// epoch ms, so the lines line up with API watches, the node-loss bench's
// timeline and the agent-restart bench). Silent otherwise.
export const tracePod: ((key: string, what: string) => void) | undefined = process.env.TUG_TRACE
  ? (key, what) => process.stderr.write(`trace ${Date.now()} pod ${key} ${what}\n`)
  : undefined;

/** One step of the agent's start or stop ("lease renewed", "engine opened", ...). */
export const traceAgent: ((what: string, at?: number) => void) | undefined = process.env.TUG_TRACE
  ? (what, at = Date.now()) => process.stderr.write(`trace ${Math.round(at)} agent ${what}\n`)
  : undefined;
