// The registry's Prometheus series. The HTTP ones carry Distribution's names
// and labels (its go-metrics handler instrumentation, namespace "registry",
// subsystem "http"), so dashboards for a Distribution registry read them:
//   registry_http_requests_total{code,handler,method}
//   registry_http_request_duration_seconds{handler,method}
//   registry_http_request_size_bytes{handler}, registry_http_response_size_bytes{handler}   (their _sum: bytes in, bytes out)
// handler is Distribution's route name: base, catalog, tags, manifest, blob,
// blob_upload, blob_upload_chunk, referrers (token for tug's token issuer).
// Distribution has no blob counter outside its storage driver timings; tug's own:
//   registry_storage_blob_commits_total   blob uploads completed (a new blob in storage)
// One registry per server (tests run several in a process).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram, Registry } from 'prom-client';
import { secondsSince } from '../../util/metrics-registry.js';

const sizeBuckets = [256, 4096, 65_536, 1_048_576, 16_777_216, 268_435_456, 4_294_967_296];

export class RegistryMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({ name: 'registry_http_requests_total', help: 'Total number of HTTP requests made.', labelNames: ['code', 'handler', 'method'], registers: [this.registry] });
  private readonly duration = new Histogram({
    name: 'registry_http_request_duration_seconds',
    help: 'The HTTP request latencies in seconds.',
    labelNames: ['handler', 'method'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly requestSize = new Histogram({ name: 'registry_http_request_size_bytes', help: 'The HTTP request sizes in bytes.', labelNames: ['handler'], buckets: sizeBuckets, registers: [this.registry] });
  private readonly responseSize = new Histogram({ name: 'registry_http_response_size_bytes', help: 'The HTTP response sizes in bytes.', labelNames: ['handler'], buckets: sizeBuckets, registers: [this.registry] });
  private readonly blobCommits = new Counter({ name: 'registry_storage_blob_commits_total', help: 'Blob uploads completed into storage (tug).', registers: [this.registry] });

  /**
   * Times a request from now and records it when the response ends; `handler()`
   * names its route once known (empty for a path with no route). Bytes are the
   * socket's counters over the request (an upload streamed in chunks has no
   * Content-Length), headers included, as on the wire.
   */
  track(req: IncomingMessage, res: ServerResponse, handler: () => string): void {
    const start = performance.now();
    const socket = req.socket;
    const read0 = socket.bytesRead;
    const written0 = socket.bytesWritten;
    res.once('close', () => {
      const name = handler();
      const method = req.method ?? 'GET';
      this.requests.inc({ code: String(res.statusCode), handler: name, method });
      this.duration.observe({ handler: name, method }, secondsSince(start));
      this.requestSize.observe({ handler: name }, Math.max(Number(req.headers['content-length'] ?? 0) || 0, socket.bytesRead - read0));
      this.responseSize.observe({ handler: name }, Math.max(0, socket.bytesWritten - written0));
      // The closing PUT of an upload session, or a monolithic POST ?digest= (also a mount): 201 Created.
      if (res.statusCode === 201 && ((name === 'blob_upload_chunk' && method === 'PUT') || (name === 'blob_upload' && method === 'POST'))) this.blobCommits.inc();
    });
  }
}
