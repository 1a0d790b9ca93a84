/**
 * HTTP health probe: `GET <path>` with node:http; healthy when the status is one of `expectedStatuses`.
 *
 * Connections are kept alive between probes (one small keep-alive agent per checker; Envoy's `reuse_connection`
 * default), so a fleet of 1,000 endpoints costs one socket each rather than a handshake every interval. Idle
 * keep-alive sockets are unref'd by node's Agent, so probing never keeps a process alive. The body is discarded.
 */
import http from 'node:http';
import type { Endpoint } from '../../endpoint.js';
import type { HealthCheckOptions } from '../options.js';
import { type ProbeResult, type Prober, TIMEOUT_DETAIL } from './prober.js';

export class HttpProber implements Prober {
  readonly #options: HealthCheckOptions;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(options: HealthCheckOptions) {
    this.#options = options;
  }

  probe(endpoint: Endpoint, signal: AbortSignal): Promise<ProbeResult> {
    const o = this.#options;
    return new Promise<ProbeResult>((resolve) => {
      const request = http.request(
        {
          host: endpoint.host,
          port: endpoint.port,
          method: 'GET',
          path: o.path,
          agent: this.#agent,
          signal,
          headers: { host: o.hostHeader ?? endpoint.address, 'user-agent': 'switchyard-health-check' },
        },
        (response) => {
          const status = response.statusCode ?? 0;
          // Drain the body so the socket can be reused; the verdict needs only the status.
          response.resume();
          response.on('error', () => {});
          resolve({ healthy: o.expectedStatuses.includes(status), detail: `status ${status}` });
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        resolve({ healthy: false, detail: signal.aborted ? TIMEOUT_DETAIL : (error.code ?? error.message) });
      });
      request.end();
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
