/**
 * Properties of the weighted pickers' tables: Vose alias tables sample each index with probability proportional to
 * its weight; EDF schedules serve each endpoint exactly its slot count, spread smoothly over the cycle.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AliasTable } from '../../src/balancer/routing/weights.js';
import { edfSchedule, slotCounts } from '../../src/pickers/weighted-round-robin.js';
import { checkProperty } from '../helpers/properties.js';

describe('AliasTable', () => {
  it('maps [0, 1) onto indices with mass proportional to the weights', () => {
    const weights = fc.array(fc.double({ min: 0.01, max: 1_000, noNaN: true }), {
      minLength: 1,
      maxLength: 24,
    });
    checkProperty(
      fc.property(weights, (w) => {
        const table = new AliasTable(w);
        // A stratified grid of draws: per column, each grid step covers 1/STEPS of its mass.
        const STEPS = 1_000;
        const mass = new Float64Array(w.length);
        const points = w.length * STEPS;
        for (let k = 0; k < points; k++) {
          const index = table.sample((k + 0.5) / points);
          if (!(index >= 0 && index < w.length)) throw new Error(`index ${index} out of range`);
          mass[index]! += 1 / points;
        }
        const total = w.reduce((a, b) => a + b, 0);
        // Each column's coin boundary falls inside one grid step: at most 1/STEPS of a column misassigned.
        for (let i = 0; i < w.length; i++) expect(Math.abs(mass[i]! - w[i]! / total)).toBeLessThan(2 / STEPS);
        expect(table.sample(0)).toBeLessThan(w.length);
        expect(table.sample(1 - Number.EPSILON)).toBeLessThan(w.length);
      }),
      { seed: 1421, numRuns: 100 },
    );
  });
});

describe('EDF schedules', () => {
  const counts = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 12 });
  it('serve each endpoint exactly its count, spread over the cycle rather than bunched', () => {
    checkProperty(
      fc.property(counts, (c) => {
        const schedule = edfSchedule(Uint32Array.from(c));
        const total = c.reduce((a, b) => a + b, 0);
        expect(schedule.length).toBe(total);
        const served = new Array<number>(c.length).fill(0);
        let worst = 0;
        for (let k = 0; k < schedule.length; k++) {
          served[schedule[k]!]!++;
          for (let i = 0; i < c.length; i++)
            worst = Math.max(worst, Math.abs(served[i]! - ((k + 1) * c[i]!) / total));
        }
        expect(served).toEqual(c);
        // After every prefix, each endpoint is within n slots of its proportional share (measured worst: 2.7 for
        // n = 12); a scheduler serving endpoints in runs would be up to max(count) off.
        expect(worst).toBeLessThanOrEqual(c.length);
      }),
      { seed: 1422, numRuns: 300 },
    );
  });

  it('is deterministic, and interleaves rather than bunches equal weights', () => {
    checkProperty(
      fc.property(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 20 }), (n, k) => {
        const schedule = edfSchedule(new Uint32Array(n).fill(k));
        expect(edfSchedule(new Uint32Array(n).fill(k))).toEqual(schedule);
        // Equal weights: every window of n consecutive slots serves every endpoint once.
        for (let start = 0; start + n <= schedule.length; start += n)
          expect(new Set(schedule.subarray(start, start + n)).size).toBe(n);
      }),
      { seed: 1423, numRuns: 100 },
    );
  });

  it('slot counts keep integer weight ratios exactly and give every endpoint a slot', () => {
    const weights = fc.array(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 40 });
    checkProperty(
      fc.property(weights, (w) => {
        const c = slotCounts(w);
        for (let i = 0; i < w.length; i++) {
          expect(c[i]).toBeGreaterThanOrEqual(1);
          const total = c.reduce((a, b) => a + b, 0);
          const exact = w.reduce((a, b) => a + b, 0);
          if (total === exact || Number.isInteger(exact / total)) expect(c[i]! * w[0]!).toBe(c[0]! * w[i]!);
          else expect(Math.abs(c[i]! / total - w[i]! / exact)).toBeLessThan(1 / 1024 + 1 / total);
        }
      }),
      { seed: 1424, numRuns: 300 },
    );
  });
});
