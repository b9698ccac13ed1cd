// With TUG_TRACE set, the agent says when it saw each pod and how each sync of
// it went (wall-clock epoch ms, so the lines line up with API watches and the
// node-loss bench's timeline). Silent otherwise.
export const tracePod: ((key: string, what: string) => void) | undefined = process.env.TUG_TRACE
  ? (key, what) => process.stderr.write(`trace ${Date.now()} pod ${key} ${what}\n`)
  : undefined;
