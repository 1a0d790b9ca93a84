import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/sim/event-queue.js';
import { SimClock } from '../../src/sim/sim-clock.js';
import { checkProperty } from '../helpers/properties.js';

describe('EventQueue', () => {
  it('pops in (time, insertion) order for any sequence of pushes', () => {
    checkProperty(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 3000 }), (times) => {
        const queue = new EventQueue<number>();
        for (const [i, t] of times.entries()) queue.push(t, 1, i);
        const popped: number[] = [];
        while (queue.size > 0) popped.push(queue.pop());
        const expected = times.map((t, i) => [t, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(popped).toEqual(expected.map(([, i]) => i));
      }),
      { seed: 42, numRuns: 100 },
    );
  });

  it('keeps order when pops and pushes interleave', () => {
    const queue = new EventQueue<string>();
    queue.push(5, 1, 'b');
    queue.push(1, 2, 'a');
    expect(queue.peekTime()).toBe(1);
    expect(queue.peekKind()).toBe(2);
    expect(queue.pop()).toBe('a');
    queue.push(5, 1, 'c');
    queue.push(3, 1, 'x');
    expect([queue.pop(), queue.pop(), queue.pop()]).toEqual(['x', 'b', 'c']);
    expect(queue.peekTime()).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('SimClock', () => {
  it('fires timers on virtual time, in order, and honours cancel', () => {
    const clock = new SimClock<string>();
    const log: string[] = [];
    clock.setTimer(() => log.push(`t10@${clock.now()}`), 10);
    const cancelled = clock.setTimer(() => log.push('never'), 5);
    clock.schedule(7, 1, 'event');
    cancelled.cancel();
    clock.setTimer(() => {
      log.push(`t2@${clock.now()}`);
      clock.setTimer(() => log.push(`nested@${clock.now()}`), 3);
    }, 2);
    clock.run(100, (_kind, target, now) => log.push(`${target}@${now}`));
    expect(log).toEqual(['t2@2', 'nested@5', 'event@7', 't10@10']);
  });

  it('stops at `until` and when keepGoing turns false', () => {
    const clock = new SimClock<number>();
    for (let i = 1; i <= 10; i++) clock.schedule(i * 10, 1, i);
    const seen: number[] = [];
    clock.run(35, (_k, n) => seen.push(n));
    expect(seen).toEqual([1, 2, 3]);
    clock.run(
      1000,
      (_k, n) => seen.push(n),
      () => seen.length < 5,
    );
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(clock.pending).toBe(5);
  });
});
