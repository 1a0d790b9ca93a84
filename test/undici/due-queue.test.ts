/**
 * DueQueue (src/undici/due-queue.ts): the direct retry path's first deadlines on one clock timer. Entries run in
 * due-time order, exactly once, only when due; removed entries never run; and a stream of entries answered in
 * time sets about one timer per delay period, not one per entry.
 */
import { describe, expect, it } from 'vitest';
import { type Clock, ManualClock, type TimerHandle } from '../../src/clock.js';
import { type DueEntry, DueQueue } from '../../src/undici/due-queue.js';

/** A ManualClock that counts the timers set on it. */
class CountingClock implements Clock {
  readonly inner = new ManualClock(1_000);
  timersSet = 0;
  now(): number {
    return this.inner.now();
  }
  setTimer(fn: () => void, ms: number): TimerHandle {
    this.timersSet++;
    return this.inner.setTimer(fn, ms);
  }
}

function entry(name: string, fired: string[]): DueEntry {
  return {
    dueAt: 0,
    duePrev: undefined,
    dueNext: undefined,
    dueQueued: false,
    due: () => fired.push(name),
  };
}

describe('DueQueue', () => {
  it('runs entries in due-time order, once each, only when due, whatever the order they were added in', () => {
    const clock = new CountingClock();
    const queue = new DueQueue(clock);
    const fired: string[] = [];
    const now = clock.now();
    for (const [name, delay] of [
      ['c', 30],
      ['a', 10],
      ['d', 40],
      ['b', 20],
      ['b2', 20],
    ] as const) {
      queue.add(entry(name, fired), now + delay, now);
    }
    clock.inner.advance(9);
    expect(fired).toEqual([]);
    clock.inner.advance(1);
    expect(fired).toEqual(['a']);
    clock.inner.advance(25);
    // Equal due times run in the order they were added.
    expect(fired).toEqual(['a', 'b', 'b2', 'c']);
    clock.inner.advance(1_000);
    expect(fired).toEqual(['a', 'b', 'b2', 'c', 'd']);
  });

  it('never runs a removed entry; removing twice, or an entry never added, is harmless', () => {
    const clock = new CountingClock();
    const queue = new DueQueue(clock);
    const fired: string[] = [];
    const now = clock.now();
    const [a, b, c] = [entry('a', fired), entry('b', fired), entry('c', fired)];
    queue.add(a, now + 10, now);
    queue.add(b, now + 20, now);
    queue.add(c, now + 30, now);
    queue.remove(a);
    queue.remove(c);
    queue.remove(c);
    queue.remove(entry('never added', fired));
    clock.inner.advance(100);
    expect(fired).toEqual(['b']);
    expect(b.dueQueued).toBe(false);
  });

  it('answered-in-time entries cost no timer each: one per delay period', () => {
    const clock = new CountingClock();
    const queue = new DueQueue(clock);
    const fired: string[] = [];
    // 1,000 requests, one every ms, each answered 2 ms after it started, with a 100 ms deadline.
    const live: DueEntry[] = [];
    for (let i = 0; i < 1_000; i++) {
      const now = clock.now();
      const e = entry(`r${i}`, fired);
      queue.add(e, now + 100, now);
      live.push(e);
      if (live.length > 2) queue.remove(live.shift()!);
      clock.inner.advance(1);
    }
    expect(fired).toEqual([]);
    // One timer at the start, then one each time the armed one fires (every ~100 ms): about 10, not 1,000.
    expect(clock.timersSet).toBeLessThanOrEqual(12);
    // The last two are still queued and run when due.
    clock.inner.advance(200);
    expect(fired).toEqual(['r998', 'r999']);
  });

  it('an earlier deadline than the armed timer re-arms for it', () => {
    const clock = new CountingClock();
    const queue = new DueQueue(clock);
    const fired: string[] = [];
    const now = clock.now();
    queue.add(entry('late', fired), now + 1_000, now);
    queue.add(entry('early', fired), now + 5, now);
    clock.inner.advance(5);
    expect(fired).toEqual(['early']);
    clock.inner.advance(995);
    expect(fired).toEqual(['early', 'late']);
  });

  it('stop() cancels the timer: nothing runs after it', () => {
    const clock = new CountingClock();
    const queue = new DueQueue(clock);
    const fired: string[] = [];
    const now = clock.now();
    queue.add(entry('a', fired), now + 10, now);
    queue.stop();
    clock.inner.advance(100);
    expect(fired).toEqual([]);
  });
});
