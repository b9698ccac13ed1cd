// Live logs: follows a streaming log response and shows the last lines, with
// a search box that filters them. Docker log streams of containers without a
// TTY are multiplexed (8-byte frame headers); Kubernetes' are plain text.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { streamBytes, ApiError } from '../api.js';
import { ErrorBox } from './common.js';

const MAX_LINES = 2000;

/** Splits Docker's multiplexed stream frames ([stream, 0, 0, 0, size(4)] + payload) out of the bytes seen so far. */
function demux(buf: Uint8Array): { payload: Uint8Array[]; rest: Uint8Array } {
  const payload: Uint8Array[] = [];
  let off = 0;
  while (buf.length - off >= 8) {
    const size = ((buf[off + 4]! << 24) | (buf[off + 5]! << 16) | (buf[off + 6]! << 8) | buf[off + 7]!) >>> 0;
    if (buf.length - off < 8 + size) break;
    payload.push(buf.subarray(off + 8, off + 8 + size));
    off += 8 + size;
  }
  return { payload, rest: buf.slice(off) };
}

export function LogView({ url, multiplexed }: { url: string; multiplexed: boolean }) {
  const [lines, setLines] = useState<string[]>([]);
  const [follow, setFollow] = useState(true);
  const [query, setQuery] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  const pre = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const ctl = new AbortController();
    const decoder = new TextDecoder();
    let rest: Uint8Array = new Uint8Array(0);
    let partial = '';
    const all: string[] = [];
    const add = (text: string): void => {
      const parts = (partial + text).split('\n');
      partial = parts.pop()!;
      all.push(...parts);
      if (all.length > MAX_LINES) all.splice(0, all.length - MAX_LINES);
      setLines([...all, ...(partial ? [partial] : [])]);
    };
    streamBytes(
      url,
      (b) => {
        if (!multiplexed) return add(decoder.decode(b, { stream: true }));
        const joined = new Uint8Array(rest.length + b.length);
        joined.set(rest);
        joined.set(b, rest.length);
        const d = demux(joined);
        rest = d.rest;
        for (const p of d.payload) add(decoder.decode(p, { stream: true }));
      },
      ctl.signal,
    ).catch((e) => {
      if (!ctl.signal.aborted) setError(e instanceof ApiError ? e : new ApiError(0, String(e)));
    });
    return () => ctl.abort();
  }, [url, multiplexed]);
  useEffect(() => {
    if (follow && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [lines, follow]);
  const shown = query ? lines.filter((l) => l.toLowerCase().includes(query.toLowerCase())) : lines;
  return html`<div class="logs">
    <div class="toolbar">
      <label><input type="checkbox" checked=${follow} onChange=${(e: Event) => setFollow((e.target as HTMLInputElement).checked)} /> follow</label>
      <input type="search" placeholder="search logs" value=${query} onInput=${(e: Event) => setQuery((e.target as HTMLInputElement).value)} aria-label="search logs" />
      <span class="muted">${shown.length} of ${lines.length} lines</span>
    </div>
    <${ErrorBox} error=${error} what="the logs" />
    <pre class="log-lines" ref=${pre}>${shown.join('\n')}</pre>
  </div>`;
}
