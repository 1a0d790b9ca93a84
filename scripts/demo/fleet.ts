/**
 * Starts and stops the demo's backends: one child process each (scripts/demo/backend.ts), listening on 127.0.0.1.
 * Children are tied to this process: they exit when the IPC channel closes, and {@link Fleet.stop} kills and waits
 * for every one, so the demo leaves nothing behind even when interrupted.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A backend of the demo fleet. */
export interface BackendSpec {
  readonly name: string;
  readonly kind: 'fast' | 'slow' | 'heavy' | 'flaky' | 'crashy';
  readonly seed: number;
}

interface Running {
  readonly spec: BackendSpec;
  port: number;
  child: ChildProcess | undefined;
}

const BACKEND = fileURLToPath(new URL('./backend.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

export class Fleet {
  readonly #backends = new Map<string, Running>();

  /** Starts every backend and resolves once all listen. */
  static async start(specs: readonly BackendSpec[]): Promise<Fleet> {
    const fleet = new Fleet();
    try {
      await Promise.all(
        specs.map(async (spec) => {
          const running: Running = { spec, port: 0, child: undefined };
          fleet.#backends.set(spec.name, running);
          await fleet.#spawn(running);
        }),
      );
    } catch (error) {
      await fleet.stop();
      throw error;
    }
    return fleet;
  }

  /** `name → port` of every backend. */
  get ports(): ReadonlyMap<string, number> {
    return new Map([...this.#backends].map(([name, r]) => [name, r.port]));
  }

  /** Kills a backend at once (SIGKILL: no graceful close, in-flight requests see a reset). */
  async kill(name: string): Promise<void> {
    const running = this.#backends.get(name);
    const child = running?.child;
    if (running === undefined || child === undefined) return;
    running.child = undefined;
    await killAndWait(child);
  }

  /** Starts a killed backend again on its old port. */
  async restart(name: string): Promise<void> {
    const running = this.#backends.get(name);
    if (running === undefined || running.child !== undefined) return;
    await this.#spawn(running);
  }

  /** Kills every backend and waits for each to exit. Idempotent. */
  async stop(): Promise<void> {
    const children = [...this.#backends.values()].flatMap((r) => (r.child === undefined ? [] : [r.child]));
    for (const r of this.#backends.values()) r.child = undefined;
    await Promise.all(children.map(killAndWait));
  }

  async #spawn(running: Running): Promise<void> {
    const { spec } = running;
    const child = fork(
      BACKEND,
      ['--kind', spec.kind, '--name', spec.name, '--port', String(running.port), '--seed', String(spec.seed)],
      { execArgv: ['--import', TSX], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
    );
    running.child = child;
    running.port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`backend ${spec.name} did not start in 20 s`)), 20_000);
      child.once('message', (message: { ready?: boolean; port?: number }) => {
        clearTimeout(timer);
        if (message.ready && typeof message.port === 'number') resolve(message.port);
        else reject(new Error(`backend ${spec.name} sent ${JSON.stringify(message)}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`backend ${spec.name} exited with ${code} before listening`));
      });
    });
  }
}

function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
