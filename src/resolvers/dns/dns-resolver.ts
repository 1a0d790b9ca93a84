/**
 * The DNS resolver: endpoints from A/AAAA records (`name` + `port`) or SRV records (`srv`), re-resolved by TTL.
 *
 * Lifecycle of one resolution (one at a time, driven by a {@link RefreshLimiter}):
 *
 *   query ─▶ answer with endpoints ─▶ update the listener if the set changed; next in clamp(TTL) − jitter
 *         ├▶ transient failure (SERVFAIL, timeout, refused, malformed answer) ─▶ onError, keep the set,
 *         │                                                             retry after exponential backoff
 *         └▶ not found (NXDOMAIN/NODATA, or nothing usable) ─▶ notFound 'keep': like a transient failure
 *                                                            notFound 'empty': 1st time like a failure (one
 *                                                            backoff step later we ask again), 2nd time in a
 *                                                            row: update with an empty set, re-check after
 *                                                            minRefreshMs
 *
 * Why the confirmation: a single NXDOMAIN can be a name server reloading its zone or a stale negative cache entry;
 * emptying the set on it would turn a blip into an outage. Two answers a second apart saying the same are a fact
 * (a headless service scaled to zero), and then traffic must stop: pod IPs are reused by other pods.
 */
import { Resolver as NodeDnsResolver } from 'node:dns/promises';
import type { Resolver, ResolverListener } from '../../balancer/resolver.js';
import { DnsResolutionError } from '../../errors/dns-resolution-error.js';
import { RefreshLimiter } from '../refresh-limiter.js';
import {
  addressAnswerToEndpoints,
  checkSrvRecords,
  type DnsAnswerOptions,
  type DnsEndpointSet,
  endpointsFingerprint,
  srvAnswerToEndpoints,
} from './answer.js';
import { type DnsResolverConfig, type DnsResolverOptions, parseDnsResolverOptions } from './options.js';
import { queryAddresses, querySrv, queryTargets } from './query.js';

/** SRV targets resolved at once. */
const TARGET_CONCURRENCY = 8;

/**
 * Resolves a DNS name into endpoints and keeps them current.
 *
 * ```ts
 * const balancer = new Balancer({ resolver: new DnsResolver({ name: 'orders.default.svc.cluster.local', port: 8080 }) });
 * const srv = new DnsResolver({ srv: '_http._tcp.orders.service.consul', servers: ['127.0.0.1:8600'] });
 * ```
 *
 * Options are validated at construction ({@link ConfigError} naming the field); see {@link DnsResolverOptions}
 * for every option and its default. Failures reach the listener's `onError` as {@link DnsResolutionError} or
 * {@link DnsAnswerError}; the last good endpoint set stays in place.
 */
export class DnsResolver implements Resolver {
  readonly #config: DnsResolverConfig;
  readonly #dns: NodeDnsResolver;
  readonly #limiter: RefreshLimiter;
  readonly #answerOptions: DnsAnswerOptions;
  #listener: ResolverListener | undefined;
  #started = false;
  #closed = false;
  /** Fingerprint of the last set sent; `undefined` before the first update. */
  #sent: string | undefined;
  #consecutiveFailures = 0;
  #consecutiveNotFound = 0;

  constructor(options: DnsResolverOptions) {
    this.#config = parseDnsResolverOptions(options);
    this.#dns = new NodeDnsResolver({ timeout: this.#config.timeoutMs, tries: this.#config.tries });
    if (this.#config.servers !== undefined) this.#dns.setServers([...this.#config.servers]);
    this.#answerOptions = {
      hostname: this.#config.query.name,
      prefer: this.#config.prefer,
      maxEndpoints: this.#config.maxEndpoints,
    };
    this.#limiter = new RefreshLimiter({
      clock: this.#config.clock,
      minIntervalMs: this.#config.refreshCooldownMs,
      run: () => this.#resolve(),
    });
  }

  /** Starts resolving; the first result reaches `listener` asynchronously. Throws if called twice. */
  start(listener: ResolverListener): void {
    if (this.#started) throw new Error('DnsResolver.start: already started');
    this.#started = true;
    this.#listener = listener;
    this.#limiter.request();
  }

  /**
   * Re-resolves soon: at once when `refreshCooldownMs` has passed since the last query started, else at that
   * moment (requests in between coalesce); a query in flight counts as the refresh.
   */
  refresh(): void {
    if (this.#started && !this.#closed) this.#limiter.request();
  }

  /** Clock time of the next scheduled query (`Infinity` when none: not started, closed, or one in flight). */
  get nextRefreshAt(): number {
    return this.#limiter.dueAt;
  }

  /** Stops the refresh timer and cancels queries in flight. The listener hears nothing more. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener = undefined;
    this.#limiter.close();
    this.#dns.cancel();
  }

  async #resolve(): Promise<void> {
    let set: DnsEndpointSet;
    let detail: string;
    try {
      ({ set, detail } = await this.#query());
    } catch (error) {
      if (!this.#closed) this.#onFailure(error as Error);
      return;
    }
    if (this.#closed) return;
    if (set.endpoints.length === 0) {
      // A successful answer with nothing usable (SRV "." or targets without addresses) means the same as NXDOMAIN.
      const { query, family } = this.#config;
      const rrtype = query.type === 'srv' ? 'SRV' : family === 'ipv6' ? 'AAAA' : 'A';
      this.#onFailure(
        new DnsResolutionError({
          hostname: this.#config.query.name,
          rrtype,
          dnsCode: 'ENODATA',
          kind: 'not-found',
        }),
      );
      return;
    }
    this.#consecutiveFailures = 0;
    this.#consecutiveNotFound = 0;
    this.#limiter.schedule(this.#refreshDelay(set.ttlSeconds));
    this.#publish(set, `dns: ${this.#describe(set)}${detail}`);
  }

  /** One resolution: the endpoint set, and a note on SRV targets that had no addresses (they are left out). */
  async #query(): Promise<{ set: DnsEndpointSet; detail: string }> {
    const { query, family } = this.#config;
    if (query.type === 'address') {
      const records = await queryAddresses(this.#dns, query.name, family);
      return { set: addressAnswerToEndpoints(query.port, records, this.#answerOptions), detail: '' };
    }
    const records = checkSrvRecords(await querySrv(this.#dns, query.name), this.#answerOptions);
    if (records.length === 0) return { set: { endpoints: [], ttlSeconds: undefined }, detail: '' };
    const { targets, missing } = await queryTargets(
      this.#dns,
      records.map((r) => r.name),
      family,
      TARGET_CONCURRENCY,
    );
    const detail = missing.length === 0 ? '' : ` (no addresses for ${missing.sort().join(', ')})`;
    return { set: srvAnswerToEndpoints(records, targets, this.#answerOptions), detail };
  }

  #onFailure(error: Error): void {
    const notFound = error instanceof DnsResolutionError && error.kind === 'not-found';
    this.#consecutiveNotFound = notFound ? this.#consecutiveNotFound + 1 : 0;
    if (notFound && this.#config.notFound === 'empty' && this.#consecutiveNotFound >= 2) {
      this.#consecutiveFailures = 0;
      this.#limiter.schedule(this.#refreshDelay(undefined));
      this.#publish(
        { endpoints: [], ttlSeconds: undefined },
        `dns: ${this.#config.query.name} has no records (${error.dnsCode}, confirmed)`,
      );
      return;
    }
    this.#consecutiveFailures++;
    this.#limiter.schedule(this.#backoffDelay(this.#consecutiveFailures));
    this.#listener?.onError(error);
  }

  #publish(set: DnsEndpointSet, note: string): void {
    const fingerprint = endpointsFingerprint(set.endpoints);
    if (fingerprint === this.#sent) return;
    this.#sent = fingerprint;
    this.#listener?.onUpdate({ endpoints: set.endpoints, note });
  }

  /** `max(minRefreshMs, clamp(TTL, minRefreshMs, maxRefreshMs) × (1 − jitter × r))`; no TTL → minRefreshMs. */
  #refreshDelay(ttlSeconds: number | undefined): number {
    const { minRefreshMs, maxRefreshMs, jitter, random } = this.#config;
    const base =
      ttlSeconds === undefined
        ? minRefreshMs
        : Math.min(maxRefreshMs, Math.max(minRefreshMs, ttlSeconds * 1000));
    return Math.max(minRefreshMs, base * (1 - jitter * random()));
  }

  /** `min(maxMs, initialMs × multiplier^(n−1)) × (1 ± jitter)`, gRPC connection-backoff style. */
  #backoffDelay(failures: number): number {
    const { backoff, jitter, random } = this.#config;
    const base = Math.min(backoff.maxMs, backoff.initialMs * backoff.multiplier ** (failures - 1));
    return base * (1 + jitter * (2 * random() - 1));
  }

  #describe(set: DnsEndpointSet): string {
    const { query, family } = this.#config;
    const kind =
      query.type === 'srv' ? 'SRV' : family === 'ipv4' ? 'A' : family === 'ipv6' ? 'AAAA' : 'A/AAAA';
    return `${query.name} ${kind} → ${set.endpoints.length} endpoints, ttl ${set.ttlSeconds ?? '-'}s`;
  }
}
