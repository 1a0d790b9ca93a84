/**
 * Hot keys under consistent hashing: requests carry a key (a user, a tenant, a cache key) drawn from a Zipf law, so
 * a handful of keys carry a large share of the traffic. Plain consistent hashing sends each key to its one
 * endpoint, and the endpoints owning the hot keys overload while the rest idle. Bounded load (Mirrokni et al.;
 * Envoy `hash_balance_factor`) caps each endpoint at `balanceFactor` × the mean load and spills the excess to the
 * next endpoint in table order, keeping most keys at home.
 */
import type { Scenario } from './scenario.js';

export const hotKeys: Scenario = {
  name: 'hot-keys',
  summary:
    'Eight backends at ~50 % load; 10,000 keys, Zipf s = 1.1 (the top key alone is ~15 % of requests). maglev and ' +
    'ring_hash, each without and with bounded load (balanceFactor 1.25).',
  fleet: {
    name: 'hot-keys',
    seed: 53,
    durationMs: 30_000,
    clients: 4,
    timeoutMs: 2000,
    keys: { count: 10_000, skew: 1.1 },
    arrivals: { type: 'poisson', ratePerSec: 3200 },
    backends: [{ name: 'cache', count: 8, concurrency: 8, serviceTime: { type: 'exponential', meanMs: 10 } }],
    configurations: [
      { name: 'maglev', policy: 'maglev' },
      { name: 'maglev, balanceFactor 1.25', policy: { name: 'maglev', balanceFactor: 1.25 } },
      { name: 'ring_hash', policy: 'ring_hash' },
      { name: 'ring_hash, balanceFactor 1.25', policy: { name: 'ring_hash', balanceFactor: 1.25 } },
    ],
  },
};
