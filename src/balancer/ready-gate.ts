/**
 * `Balancer.ready()`: waiting for the first endpoint set. Off the hot path.
 */
import type { Clock } from '../clock.js';

/** Tracks whether the first endpoint set arrived, and wakes those waiting for it. */
export class ReadyGate {
  #resolved = false;
  readonly #waiters = new Set<(resolved: boolean) => void>();

  /** True once the first endpoint set was applied. */
  get resolved(): boolean {
    return this.#resolved;
  }

  /** Resolves `true` at the first endpoint set, `false` after `timeoutMs` or when {@link ReadyGate.fail} is called. */
  wait(clock: Clock, timeoutMs: number): Promise<boolean> {
    if (this.#resolved) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const waiter = (resolved: boolean) => {
        timer.cancel();
        this.#waiters.delete(waiter);
        resolve(resolved);
      };
      const timer = clock.setTimer(() => waiter(false), timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** The first endpoint set was applied: wakes every waiter with `true` (once; later calls do nothing). */
  open(): void {
    if (this.#resolved) return;
    this.#resolved = true;
    this.#wake(true);
  }

  /** No set is coming for now (the resolver failed before answering, or the balancer closed): wakes with `false`. */
  fail(): void {
    this.#wake(false);
  }

  #wake(resolved: boolean): void {
    for (const wake of [...this.#waiters]) wake(resolved);
  }
}
