// A terminal in the page: xterm.js (loaded on first use, so the first page
// load does not carry it) over a WebSocket. The wire format is the caller's:
// the engine's exec bridge sends raw bytes; Kubernetes' v4.channel.k8s.io
// prefixes each frame with a channel byte.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { freshCsrf } from '../api.js';

export type Wire = 'raw' | 'k8s';

export function Terminal({ url, wire }: { url: string; wire: Wire }) {
  const box = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState('connecting…');
  useEffect(() => {
    let ws: WebSocket | undefined;
    let disposed = false;
    let term: import('@xterm/xterm').Terminal | undefined;
    void Promise.all([import('@xterm/xterm'), freshCsrf()]).then(([{ Terminal: XTerm }, csrf]) => {
      if (disposed) return;
      term = new XTerm({ cols: 100, rows: 24, convertEol: false, fontSize: 13 });
      term.open(box.current!);
      const sep = url.includes('?') ? '&' : '?';
      ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${url}${sep}csrf=${encodeURIComponent(csrf)}`, wire === 'k8s' ? ['v4.channel.k8s.io'] : []);
      ws.binaryType = 'arraybuffer';
      const enc = new TextEncoder();
      const sendInput = (s: string): void => {
        if (ws?.readyState !== WebSocket.OPEN) return;
        if (wire === 'raw') ws.send(enc.encode(s));
        else {
          const b = enc.encode(s);
          const f = new Uint8Array(b.length + 1);
          f.set(b, 1);
          ws.send(f);
        }
      };
      const resize = (): void => {
        if (ws?.readyState !== WebSocket.OPEN || !term) return;
        if (wire === 'raw') ws.send(JSON.stringify({ resize: [term.cols, term.rows] }));
        else {
          const b = enc.encode(JSON.stringify({ Width: term.cols, Height: term.rows }));
          const f = new Uint8Array(b.length + 1);
          f[0] = 4;
          f.set(b, 1);
          ws.send(f);
        }
      };
      ws.onopen = () => {
        setStatus('connected');
        resize();
        term?.focus();
      };
      ws.onmessage = (m) => {
        const b = new Uint8Array(m.data as ArrayBuffer);
        if (wire === 'raw') term?.write(b);
        else if (b[0] === 1 || b[0] === 2) term?.write(b.subarray(1));
      };
      ws.onclose = (e) => setStatus(`closed${e.reason ? `: ${e.reason}` : ''}`);
      term.onData(sendInput);
    });
    return () => {
      disposed = true;
      ws?.close();
      term?.dispose();
    };
  }, [url, wire]);
  return html`<div class="terminal-wrap"><div class="muted terminal-status">terminal: ${status}</div><div class="term-box" ref=${box}></div></div>`;
}
