/**
 * Active health checks of HTTPS endpoints (defect 11): the probe uses the endpoint's scheme and TLS options, so a
 * `BalancedDispatcher` with `protocol: 'https:'` and `healthCheck` keeps its healthy endpoints.
 */
import { createServer, type Server } from 'node:https';
import * as undici from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEndpoint } from '../../src/endpoint.js';
import { HttpProber } from '../../src/health/active/http-check.js';
import { parseHealthCheck } from '../../src/health/options.js';
import { BalancedDispatcher } from '../../src/undici/dispatcher.js';
import { makeCertificate } from '../helpers/certificates.js';

const tls = makeCertificate();
const servers: Server[] = [];
const addresses: string[] = [];
const probes: { path: string | undefined; servername: unknown }[] = [];

beforeAll(async () => {
  if (tls === undefined) return;
  for (let i = 0; i < 2; i++) {
    const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      if (req.url === '/healthz')
        probes.push({ path: req.url, servername: (req.socket as { servername?: unknown }).servername });
      res.end(`tls${i}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    addresses.push(`127.0.0.1:${(server.address() as { port: number }).port}`);
  }
});

afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('health-check options', () => {
  it('validates scheme and tls', () => {
    expect(parseHealthCheck({ scheme: 'https', tls: { rejectUnauthorized: false } }, 'h')).toMatchObject({
      scheme: 'https',
      tls: { rejectUnauthorized: false },
    });
    expect(parseHealthCheck({}, 'h')?.scheme).toBe('http');
    expect(() => parseHealthCheck({ scheme: 'ftp' }, 'h')).toThrow(/h\.scheme/);
    expect(() => parseHealthCheck({ tls: 'x' }, 'h')).toThrow(/h\.tls/);
  });
});

describe.skipIf(tls === undefined)('HTTPS probes (skipped without the openssl CLI, unless CI is set)', () => {
  it('the prober speaks TLS with the given CA and SNI from the Host header; without the CA it fails', async () => {
    const endpoint = parseEndpoint(addresses[0]!, 'e');
    const options = parseHealthCheck(
      { scheme: 'https', hostHeader: 'orders.internal', tls: { ca: tls!.cert } },
      'h',
    )!;
    const prober = new HttpProber(options);
    const untrusting = new HttpProber(
      parseHealthCheck({ scheme: 'https', hostHeader: 'orders.internal' }, 'h')!,
    );
    try {
      expect(await prober.probe(endpoint, new AbortController().signal)).toEqual({
        healthy: true,
        detail: 'status 200',
      });
      expect(probes.at(-1)).toEqual({ path: '/healthz', servername: 'orders.internal' });
      const refused = await untrusting.probe(endpoint, new AbortController().signal);
      expect(refused.healthy).toBe(false);
      expect(refused.detail).toMatch(/SELF_SIGNED|CERT/);
    } finally {
      prober.close();
      untrusting.close();
    }
  });

  it('a BalancedDispatcher with protocol https: probes over TLS with its pool.connect options', async () => {
    const d = new BalancedDispatcher({
      balancer: {
        endpoints: addresses,
        healthCheck: { hostHeader: 'orders.internal', intervalMs: 60_000, unhealthyThreshold: 1 },
      },
      protocol: 'https:',
      pool: { connect: { ca: tls!.cert } },
    });
    try {
      const checker = d.balancer.health.healthChecker!;
      await checker.checkAll();
      await checker.checkAll();
      const stats = d.balancer.stats();
      expect(stats.endpoints.map((e) => e.condition)).toEqual(['routable', 'routable']);
      expect(stats.panic).toBe(false);
      const res = await undici.request('https://orders.internal/', { dispatcher: d });
      expect(await res.body.text()).toMatch(/^tls[01]$/);
    } finally {
      await d.close();
    }
  });
});
