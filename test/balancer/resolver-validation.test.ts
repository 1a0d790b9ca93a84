import { describe, expect, it } from 'vitest';
import { Balancer } from '../../src/balancer/balancer.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { manualResolver } from '../helpers/manual-resolver.js';

describe('resolver values (defect 5)', () => {
  it('rejects what is not a Resolver with ConfigError naming the field', () => {
    expect(() => new Balancer({ resolver: 'dns:///x' as never })).toThrow(ConfigError);
    expect(() => new Balancer({ resolver: 'dns:///x' as never })).toThrow(/^resolver: expected a Resolver/);
    expect(() => new Balancer({ resolver: null as never })).toThrow(ConfigError);
    expect(() => new Balancer({ resolver: { start() {} } as never })).toThrow(
      /resolver\.refresh: expected a function/,
    );
    expect(() => new Balancer({ resolver: { start: 1, refresh() {}, close() {} } as never })).toThrow(
      /resolver\.start: expected a function/,
    );
  });

  it('a malformed update is a resolver-error with ConfigError; the last good set stays', () => {
    const resolver = manualResolver();
    const balancer = new Balancer({ resolver });
    const errors: Error[] = [];
    balancer.on('resolver-error', (e) => errors.push(e));
    resolver.listener!.onUpdate({ endpoints: ['10.0.0.1:80'] });
    for (const bad of [null, 'x', { endpoints: 'nope' }, { endpoints: [{ host: 'a@b', port: 1 }] }]) {
      resolver.listener!.onUpdate(bad as never);
    }
    expect(errors).toHaveLength(4);
    for (const e of errors) expect(e).toBeInstanceOf(ConfigError);
    expect(balancer.stats().endpoints.map((e) => e.address)).toEqual(['10.0.0.1:80']);
    void balancer.close();
  });
});
