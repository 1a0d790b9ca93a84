/**
 * End to end: a CDS Cluster's outlier_detection and circuit_breakers, served by a real ADS control plane (grpc-js
 * server, full envoy protos), reach a Balancer through the XdsResolver and take effect; a resent cluster keeps the
 * Balancer's state, a changed one reconfigures it.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { ManualClock } from '../../src/clock.js';
import { seededRandom } from '../../src/random.js';
import { XdsResolver } from '../../src/resolvers/xds/xds-resolver.js';
import { buildResources, envoyProtos, startControlPlane, TYPE } from '../helpers/xds-control-plane.js';
import { localBootstrap, until } from '../helpers/xds-fixtures.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

beforeAll(() => {
  envoyProtos();
});

const A = '127.0.0.1:8001';
const OUTLIER = {
  consecutive_5xx: { value: 3 },
  max_ejection_percent: { value: 100 },
  base_ejection_time: { seconds: 20 },
  success_rate_stdev_factor: { value: 1500 },
};

describe('xDS cluster settings drive the Balancer', () => {
  it('CDS outlier_detection ejects; circuit_breakers limit; a resent cluster keeps state; removal returns', {
    timeout: 15_000,
  }, async () => {
    const cp = await startControlPlane({
      endpoints: [{ port: 8001 }, { port: 8002 }],
      cluster: { outlier_detection: OUTLIER },
    });
    cleanups.push(() => cp.forceClose());
    const resolver = new XdsResolver({ cluster: 'svc-cluster', bootstrap: localBootstrap(cp.port) });
    const clock = new ManualClock(1_000);
    const balancer = new Balancer({ resolver, policy: 'round_robin', clock, random: seededRandom(3) });
    cleanups.push(() => balancer.close());
    const errors: Error[] = [];
    balancer.on('resolver-error', (e) => errors.push(e));
    const updates = () => updateCount;
    let updateCount = 0;
    balancer.on('update', () => updateCount++);
    await until(() => balancer.stats().endpoints.length === 2, 'two endpoints');

    const detector = balancer.health.outlierDetector;
    expect(detector?.options.consecutive5xx).toBe(3);
    expect(detector?.options.baseEjectionTimeMs).toBe(20_000);
    expect(detector?.options.successRate.stdevFactor).toBe(1.5);
    const condition = (address: string) =>
      balancer.stats().endpoints.find((e) => e.address === address)?.condition;
    const failOn = (address: string, n: number) => {
      for (let done = 0; done < n; ) {
        const lease = balancer.pick()!;
        if (lease.endpoint.address === address) {
          lease.release({ ok: false, failure: 'connect' });
          done++;
        } else lease.release();
      }
    };
    failOn(A, 3);
    expect(condition(A)).toBe('ejected');

    // EDS changes: the resolver resends the unchanged cluster with the new endpoints. Same detector, A still out.
    const before = updates();
    cp.setEndpoints([{ endpoints: [{ port: 8001 }, { port: 8002 }, { port: 8003 }] }]);
    await until(() => updates() > before, 'the EDS update');
    expect(balancer.stats().endpoints).toHaveLength(3);
    expect(balancer.health.outlierDetector).toBe(detector);
    expect(condition(A)).toBe('ejected');

    // CDS changes: no outlier detection any more, circuit breakers on.
    const cds = buildResources({
      cluster: { circuit_breakers: { thresholds: [{ max_requests: { value: 2 } }] } },
    })[TYPE.CDS]!;
    const beforeCds = updates();
    cp.update(TYPE.CDS, cds);
    await until(() => updates() > beforeCds, 'the CDS update');
    expect(errors).toEqual([]);
    expect(balancer.health.outlierDetector).toBeUndefined();
    expect(condition(A)).toBe('routable');
    expect(balancer.limits.maxRequests).toBe(2);
    const leases = [balancer.tryPick(), balancer.tryPick()];
    expect(balancer.tryPick()).toBe('overflow');
    for (const lease of leases) if (typeof lease !== 'string') lease.release();
  });
});
