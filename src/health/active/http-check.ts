/**
 * HTTP health probe: `GET <path>` with node:http, or node:https when `scheme` is `'https'` (with the endpoint's TLS
 * options); healthy when the status is one of `expectedStatuses`.
 *
 * Connections are kept alive between probes (one small keep-alive agent per checker; Envoy's `reuse_connection`
 * default), so a fleet of 1,000 endpoints costs one socket each rather than a handshake every interval. Idle
 * keep-alive sockets are unref'd by node's Agent, so probing never keeps a process alive. The body is discarded.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Endpoint } from '../../endpoint.js';
import type { HealthCheckOptions } from './options.js';
import { type ProbeResult, type Prober, TIMEOUT_DETAIL } from './prober.js';

export class HttpProber implements Prober {
  readonly #options: HealthCheckOptions;
  readonly #secure: boolean;
  readonly #agent: http.Agent;

  constructor(options: HealthCheckOptions) {
    this.#options = options;
    this.#secure = options.scheme === 'https';
    this.#agent = this.#secure
      ? new https.Agent({ keepAlive: true, maxSockets: 1, ...(options.tls ?? {}) })
      : new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  probe(endpoint: Endpoint, signal: AbortSignal): Promise<ProbeResult> {
    const o = this.#options;
    const host = o.hostHeader ?? endpoint.address;
    const request = (this.#secure ? https : http).request;
    return new Promise<ProbeResult>((resolve) => {
      const req = request(
        {
          host: endpoint.host,
          port: endpoint.port,
          method: 'GET',
          path: o.path,
          agent: this.#agent,
          signal,
          headers: { host, 'user-agent': 'switchyard-health-check' },
          ...(this.#secure ? tlsFor(o, host) : {}),
        },
        (response) => {
          const status = response.statusCode ?? 0;
          // Drain the body so the socket can be reused; the verdict needs only the status.
          response.resume();
          response.on('error', () => {});
          resolve({ healthy: o.expectedStatuses.includes(status), detail: `status ${status}` });
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        resolve({ healthy: false, detail: signal.aborted ? TIMEOUT_DETAIL : (error.code ?? error.message) });
      });
      req.end();
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/**
 * The TLS options of one probe: the configured ones, and SNI from the Host header's name (the certificate is the
 * service's, not the endpoint IP's) unless `tls.servername` says otherwise. IP literals are never sent as SNI.
 */
function tlsFor(o: HealthCheckOptions, host: string): Record<string, unknown> {
  const name = host.startsWith('[') ? '' : host.replace(/:\d+$/, '');
  const servername = o.tls?.servername ?? (name !== '' && isIP(name) === 0 ? name : undefined);
  return { ...(o.tls ?? {}), ...(servername === undefined ? {} : { servername }) };
}
