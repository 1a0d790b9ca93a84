import { EndpointState } from './src/balancer/endpoint-state.js';
import { systemClock } from './src/clock.js';
import { parseEndpoint } from './src/endpoint.js';
import { createPolicy, parsePolicyConfig } from './src/pickers/registry.js';
import { seededRandom } from './src/random.js';
const a = Array.from({ length: 10000 }, (_, i) => ({ host: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 8080, weight: 1 + (i % 4) }));
const states = a.map((e, k) => new EndpointState(parseEndpoint(e, `e${k}`), 0, 1));
const p = createPolicy(parsePolicyConfig('multiprobe'), { random: seededRandom(7), clock: systemClock, load: { totalInFlight: 0 } });
for (let k = 0; k < 40; k++) p.build(k % 2 ? states : states.slice(1));
