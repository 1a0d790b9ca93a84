/**
 * The probe contract of active health checking: one protocol-specific check of one endpoint.
 */
import type { Endpoint } from '../../endpoint.js';

/** What one probe found. */
export interface ProbeResult {
  readonly healthy: boolean;
  /** Short reason for logs and the health-check channel: `status 200`, `SERVING`, `timeout`, `ECONNREFUSED`. */
  readonly detail: string;
}

/** Checks endpoints over one protocol. Probes never throw: a failure is a result. */
export interface Prober {
  /** Probes `endpoint`; must settle promptly once `signal` aborts (the checker's timeout). */
  probe(endpoint: Endpoint, signal: AbortSignal): Promise<ProbeResult>;
  /** The endpoint is gone: drop any connection kept for it. */
  forget?(endpoint: Endpoint): void;
  /** Close every connection. */
  close(): void | Promise<void>;
}

/** `detail` of a probe that the checker's timeout aborted. */
export const TIMEOUT_DETAIL = 'timeout';
