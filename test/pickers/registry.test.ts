import { describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import type { PolicyDefinition } from '../../src/balancer/policy/picker.js';
import { parsePolicyConfig, registeredPolicies, registerPolicy } from '../../src/balancer/policy/registry.js';
import { AliasTable } from '../../src/balancer/routing/weights.js';
import { readNumber, readObject } from '../../src/config/validate.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { edfSchedule, slotCounts } from '../../src/pickers/weighted-round-robin.js';

/** A user-defined policy: always the endpoint with the lowest port (a plugin written against the public contract). */
const lowestPort: PolicyDefinition<{ offset: number }> = {
  name: 'test_lowest_port',
  description: 'test policy',
  parse(raw, path) {
    const obj = readObject(raw, path, ['offset']);
    return { offset: readNumber(obj, 'offset', path, { integer: true, min: 0, max: 5 }, 0) };
  },
  create(options) {
    return {
      name: 'test_lowest_port',
      build(endpoints) {
        const sorted = [...endpoints].sort((a, b) => a.endpoint.port - b.endpoint.port);
        return { pick: () => sorted[Math.min(options.offset, sorted.length - 1)] };
      },
    };
  },
};

describe('policy registry', () => {
  registerPolicy(lowestPort);

  it('makes a registered plugin selectable by name with validated options', () => {
    expect(registeredPolicies()).toContain('test_lowest_port');
    const b = new Balancer({
      endpoints: ['h:9', 'h:3', 'h:5'],
      policy: { name: 'test_lowest_port', offset: 1 },
    });
    expect(b.pick()!.endpoint.address).toBe('h:5');
    expect(() => b.setPolicy({ name: 'test_lowest_port', offset: 9 })).toThrow(
      'policy.offset: expected an integer from 0 to 5, got 9',
    );
    expect(b.policy).toBe('test_lowest_port');
  });

  it('refuses to silently replace a registered name, and refuses bad names', () => {
    expect(() => registerPolicy(lowestPort)).toThrow(ConfigError);
    expect(() => registerPolicy({ ...lowestPort, name: 'Bad-Name' })).toThrow(ConfigError);
    expect(() => registerPolicy(lowestPort, { replace: true })).not.toThrow();
  });

  it('rejects unknown names listing the known ones, and malformed selections', () => {
    expect(() => parsePolicyConfig({ name: 'maglevv' })).toThrow(
      /policy\.name: expected one of .*"round_robin"/,
    );
    expect(() => parsePolicyConfig(42)).toThrow(ConfigError);
    expect(() => parsePolicyConfig(['round_robin'])).toThrow(ConfigError);
  });
});

describe('weight structures', () => {
  it('alias table samples exactly in proportion over an even grid of draws', () => {
    const table = new AliasTable([1, 2, 5]);
    const counts = [0, 0, 0];
    const n = 80_000;
    for (let i = 0; i < n; i++) counts[table.sample((i + 0.5) / n)]! += 1;
    expect(counts.map((c) => c / n)).toEqual([1 / 8, 2 / 8, 5 / 8].map((p) => expect.closeTo(p, 3)));
  });

  it('slot counts are exact for small integer weights and scaled otherwise', () => {
    expect([...slotCounts([2, 4, 6])]).toEqual([1, 2, 3]);
    const scaled = slotCounts([0.001, 1000]);
    expect(scaled[0]).toBeGreaterThanOrEqual(1);
    expect(scaled[0]! + scaled[1]!).toBeLessThanOrEqual(65_536 + 1);
  });

  it('EDF schedule gives each endpoint exactly its slot count', () => {
    const schedule = edfSchedule(Uint32Array.from([1, 3, 4]));
    expect(schedule.length).toBe(8);
    const counts = [0, 0, 0];
    for (const i of schedule) counts[i]! += 1;
    expect(counts).toEqual([1, 3, 4]);
  });
});
