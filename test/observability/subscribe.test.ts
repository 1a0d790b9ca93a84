import { afterEach, describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { ManualClock } from '../../src/clock.js';
import { channelNames } from '../../src/observability/channels.js';
import { type ChannelKey, countEvents, subscribeAll } from '../../src/observability/subscribe.js';

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

describe('subscribeAll', () => {
  it('delivers the Balancer’s endpoint and panic events with the channel they came on', async () => {
    const seen: [ChannelKey, string, unknown][] = [];
    stops.push(subscribeAll((msg, key, name) => seen.push([key, name, msg])));
    const balancer = new Balancer({
      endpoints: ['10.0.0.1:80', '10.0.0.2:80'],
      name: 'orders',
      clock: new ManualClock(),
    });
    balancer.setEndpoints(['10.0.0.1:80', { host: '10.0.0.3', port: 80, health: 'unhealthy' }]);
    await balancer.close();
    expect(seen).toContainEqual([
      'endpointAdded',
      channelNames.endpointAdded,
      { balancer: 'orders', address: '10.0.0.2:80' },
    ]);
    expect(seen).toContainEqual([
      'endpointRemoved',
      channelNames.endpointRemoved,
      { balancer: 'orders', address: '10.0.0.2:80' },
    ]);
    // One of two endpoints healthy is below the 50 % panic threshold only when strictly below: 50 % is not panic.
    expect(seen.filter(([key]) => key === 'panic')).toEqual([]);
    balancer.removeAllListeners();
  });

  it('stops delivering after unsubscribe, and listens only to the channels asked for', () => {
    const seen: ChannelKey[] = [];
    const stop = subscribeAll((_m, key) => seen.push(key), ['endpointRemoved']);
    const balancer = new Balancer({ endpoints: ['10.0.0.1:80'], clock: new ManualClock() });
    balancer.setEndpoints(['10.0.0.2:80']);
    stop();
    stop(); // idempotent
    balancer.setEndpoints(['10.0.0.3:80']);
    expect(seen).toEqual(['endpointRemoved']);
    void balancer.close();
  });
});

describe('countEvents', () => {
  it('counts events per channel and balancer, including panic', async () => {
    const counter = countEvents();
    stops.push(counter.stop);
    const a = new Balancer({
      endpoints: ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80'],
      name: 'a',
      clock: new ManualClock(),
    });
    const b = new Balancer({ endpoints: ['10.0.0.9:80'], name: 'b', clock: new ManualClock() });
    a.setEndpoints([
      '10.0.0.1:80',
      { host: '10.0.0.2', port: 80, health: 'unhealthy' },
      { host: '10.0.0.3', port: 80, health: 'unhealthy' },
    ]);
    expect(counter.counts.get('endpointAdded')).toEqual(
      new Map([
        ['a', 3],
        ['b', 1],
      ]),
    );
    expect(counter.counts.get('panic')?.get('a')).toBe(1);
    await Promise.all([a.close(), b.close()]);
  });
});
