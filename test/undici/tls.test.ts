import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import * as undici from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BalancedAgent } from '../../src/undici/agent.js';
import { BalancedDispatcher } from '../../src/undici/dispatcher.js';
import { makeCertificate } from '../helpers/certificates.js';

const tls = makeCertificate();
const seen: { servername: string | false | null; host: string | undefined }[] = [];
const servers: Server[] = [];
const addresses: string[] = [];

beforeAll(async () => {
  if (tls === undefined) return;
  for (let i = 0; i < 2; i++) {
    const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      seen.push({ servername: (req.socket as TLSSocket).servername, host: req.headers.host });
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

describe.skipIf(tls === undefined)(
  'https endpoints (skipped without the openssl CLI, unless CI is set)',
  () => {
    it('sends the logical host as SNI and Host, so the certificate of orders.internal verifies', async () => {
      const d = new BalancedDispatcher({
        balancer: { endpoints: addresses, policy: 'round_robin' },
        protocol: 'https:',
        pool: { connect: { ca: tls!.cert } },
      });
      try {
        const bodies = [];
        for (let i = 0; i < 4; i++) {
          const res = await undici.request('https://orders.internal/', { dispatcher: d });
          bodies.push(await res.body.text());
        }
        expect(bodies.sort()).toEqual(['tls0', 'tls0', 'tls1', 'tls1']);
        expect(seen.every((s) => s.servername === 'orders.internal' && s.host === 'orders.internal')).toBe(
          true,
        );
      } finally {
        await d.close();
      }
    });

    it('a BalancedAgent service with an https origin reaches its endpoints over TLS', async () => {
      const agent = new BalancedAgent({
        services: {
          'https://orders.internal': {
            balancer: { endpoints: addresses },
            pool: { connect: { ca: tls!.cert } },
          },
        },
      });
      try {
        const res = await undici.request('https://orders.internal/', { dispatcher: agent });
        expect(await res.body.text()).toMatch(/^tls[01]$/);
      } finally {
        await agent.close();
      }
    });
  },
);
