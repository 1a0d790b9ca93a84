import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import * as undici from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { BalancedDispatcher } from '../../src/undici/dispatcher.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  if (server?.listening) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
});

async function upgradeServer(): Promise<string> {
  server = createServer((_req, res) => res.end('no upgrade'));
  server.on('upgrade', (req, socket) => {
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\nx-host: ${req.headers.host}\r\n\r\n`,
    );
    socket.pipe(socket); // echo
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('upgrades', () => {
  it.each([
    ['single-attempt path', {}],
    ['with retries configured (upgrades bypass the executor)', { retry: {} }],
  ])('hands over the socket and releases the lease: %s', async (_name, extra) => {
    const address = await upgradeServer();
    const d = new BalancedDispatcher({ balancer: { endpoints: [address] }, ...extra });
    try {
      const { headers, socket } = await undici.upgrade('http://echo.internal/', {
        dispatcher: d,
        protocol: 'echo',
      });
      expect(headers['x-host']).toBe('echo.internal');
      socket.write('ping');
      const [chunk] = (await once(socket, 'data')) as [Buffer];
      expect(chunk.toString()).toBe('ping');
      socket.destroy();
      const stats = d.balancer.stats();
      expect(stats.totalInFlight).toBe(0);
      expect(stats.endpoints[0]!.successes).toBe(1);
    } finally {
      await d.destroy();
    }
  });
});
