/**
 * One demo backend, run as a child process by scripts/demo.ts: an HTTP server on 127.0.0.1 with a fixed number of
 * workers in front of a FIFO queue (so an overloaded backend builds a queue, as real ones do) and a service-time
 * profile chosen by `--kind`:
 *
 * - `fast`    — 2 ms, exponential.
 * - `slow`    — 40 ms, exponential: ten to twenty times slower than its peers.
 * - `heavy`   — lognormal, median 4 ms, σ 1.5: most requests are quick, one in a hundred takes 100+ ms.
 * - `flaky`   — 4 ms, but answers 503 to 60 % of requests during the first second of every three (a bad
 *                dependency flapping).
 * - `crashy`  — 4 ms; the parent kills it mid-run (SIGKILL) and starts it again on the same port.
 *
 * Waiting is done with timers, not by burning CPU, so the demo is gentle on a shared machine. Each response names
 * the backend in `x-backend`, which is how the demo counts each backend's share even for undici's BalancedPool.
 * The port is reported to the parent over IPC once listening.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { seededRandom } from '../../src/random.js';

const { values } = parseArgs({
  options: {
    kind: { type: 'string' },
    name: { type: 'string' },
    port: { type: 'string', default: '0' },
    workers: { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
  },
});
const kind = values.kind ?? 'fast';
const name = values.name ?? kind;
const workers = Number(values.workers);
const random = seededRandom(Number(values.seed));
const startedAt = performance.now();

function exponential(meanMs: number): number {
  return -meanMs * Math.log(1 - random());
}

function lognormal(medianMs: number, sigma: number): number {
  const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.min(medianMs * Math.exp(sigma * z), 2000);
}

function serviceTime(): number {
  switch (kind) {
    case 'slow':
      return exponential(40);
    case 'heavy':
      return lognormal(4, 1.5);
    case 'fast':
      return exponential(2);
    default:
      return exponential(4);
  }
}

/** `flaky` fails in bursts: 60 % 503s during the first second of every three. */
function failsNow(): boolean {
  if (kind !== 'flaky') return false;
  const inBurst = (performance.now() - startedAt) % 3000 < 1000;
  return inBurst && random() < 0.6;
}

let busy = 0;
const queue: (() => void)[] = [];

function serve(res: ServerResponse): void {
  busy++;
  setTimeout(() => {
    busy--;
    res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': name });
    res.end('ok\n');
    queue.shift()?.();
  }, serviceTime());
}

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  req.resume();
  if (failsNow()) {
    res.writeHead(503, { 'x-backend': name, 'retry-after': '0' });
    res.end('unavailable\n');
    return;
  }
  if (busy < workers) serve(res);
  else queue.push(() => serve(res));
});
server.keepAliveTimeout = 60_000;

server.listen(Number(values.port), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.send?.({ ready: true, port });
});

// The parent going away (even by SIGKILL) closes the IPC channel: never outlive it.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
