// What both of the dashboard's doors (engine-upstream.ts, kube-upstream.ts)
// do with an upstream answer: drop the hop-by-hop headers of either side,
// stream the body through, and turn an upstream that does not answer into a
// 502 the page can show (or a cut connection once the answer has begun).
import type { IncomingMessage, ServerResponse, ClientRequest } from 'node:http';

const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'cookie', 'host', 'origin', 'referer', 'x-csrf-token']);

/** The browser's request headers that may go upstream: no cookie (the session), no CSRF token, no hop-by-hop ones. */
export function forwardHeaders(h: IncomingMessage['headers']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !hopByHop.has(k) && !k.startsWith('sec-')) out[k] = v;
  return out;
}

/**
 * Sends an upstream answer on to the browser: its status and headers (less the
 * hop-by-hop ones, and less content-length when the body is rewritten), then
 * the body, piped unchanged unless rewrite takes it over.
 */
export function relayResponse(r: IncomingMessage, res: ServerResponse, rewrite?: (r: IncomingMessage, res: ServerResponse) => void): void {
  const headers = { ...r.headers };
  delete headers.connection;
  delete headers['transfer-encoding'];
  if (rewrite) delete headers['content-length'];
  res.writeHead(r.statusCode ?? 502, headers);
  if (rewrite) rewrite(r, res);
  else r.pipe(res);
}

/**
 * Ties an upstream request to the browser's: an upstream failure becomes a 502
 * with body(message) (or a cut connection once the answer has begun), a closed
 * page ends the upstream stream (a followed log, an events stream or a watch),
 * and the browser's body goes up.
 */
export function relayRequest(up: ClientRequest, req: IncomingMessage, res: ServerResponse, body: (message: string) => unknown): void {
  up.on('error', (err) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify(body(err.message)));
    else res.destroy();
  });
  res.on('close', () => up.destroy());
  req.pipe(up);
}

/**
 * Calls onLine with each non-empty line of a text stream as it arrives (Docker
 * stats, Kubernetes watches: one JSON value per line), and onEnd with what
 * followed the last newline once the stream ends.
 */
export function eachLine(r: IncomingMessage, onLine: (line: string) => void, onEnd?: (rest: string) => void): void {
  let pending = '';
  r.setEncoding('utf8');
  r.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const l of lines) if (l.trim()) onLine(l);
  });
  if (onEnd) r.on('end', () => onEnd(pending));
}
