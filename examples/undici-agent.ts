/**
 * A process-wide balanced dispatcher: two local backends behind the logical name `http://orders.internal`, with
 * retries, installed with setGlobalDispatcher so plain `fetch` calls are balanced.
 *
 *   node --import tsx examples/undici-agent.ts
 */
import { createServer, type Server } from 'node:http';
import { getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { BalancedAgent } from '../src/undici/index.js';

function backend(name: string): Promise<Server> {
  const server = createServer((_req, res) => res.end(`hello from ${name}\n`));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const backends = await Promise.all([backend('a'), backend('b')]);
const endpoints = backends.map((s) => `127.0.0.1:${(s.address() as { port: number }).port}`);

const previous = getGlobalDispatcher();
const agent = new BalancedAgent({
  services: { 'http://orders.internal': { balancer: { endpoints, policy: 'p2c_peak_ewma' }, retry: {} } },
});
setGlobalDispatcher(agent);

for (let i = 0; i < 4; i++) process.stdout.write(await (await fetch('http://orders.internal/')).text());
console.log(
  agent.services
    .get('http://orders.internal')
    ?.balancer.stats()
    .endpoints.map((e) => `${e.address}: ${e.successes} ok`),
);

setGlobalDispatcher(previous);
await agent.close();
for (const s of backends) s.close();
