/**
 * A real DNS server for tests: dnsmasq on 127.0.0.1, a free port, records the test writes.
 *
 * - A/AAAA records live in an addn-hosts file: {@link Dnsmasq.setHosts} rewrites it and SIGHUPs dnsmasq, then
 *   waits for dnsmasq's own "read <file>" log line, so the next query sees the new set.
 * - SRV records live in the config file, which dnsmasq does not re-read on SIGHUP: {@link Dnsmasq.restart} writes
 *   a new config and restarts it on the same port.
 * - `*.test` is local (`local=/test/`): unknown names answer NXDOMAIN, nothing is forwarded anywhere.
 *
 * {@link dnsmasqAvailability} tells a test file whether to run: skip locally without dnsmasq, fail under CI.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promises as dns } from 'node:dns';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** One SRV record: `srv-host=name,target,port,priority,weight`. */
export interface SrvHost {
  readonly name: string;
  readonly target: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

/** What the server answers. `hosts` lines are `[address, name]`. */
export interface DnsmasqRecords {
  readonly hosts?: readonly (readonly [string, string])[];
  readonly srv?: readonly SrvHost[];
  /** TTL of answers from the hosts file, seconds. Default 5. */
  readonly ttl?: number;
}

const CANDIDATES = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq', '/sbin/dnsmasq'];
const READY_NAME = 'ready.switchyard.test';

/**
 * dnsmasq runs under a small `sh` watchdog: it prints dnsmasq's pid, exits when dnsmasq exits, and kills dnsmasq
 * when its stdin closes — which happens when this process dies in any way (a worker killed on a test timeout gets
 * no 'exit' event), so a crashed test never leaves a DNS server running.
 */
const WATCHDOG =
  // A background job's stdin is /dev/null in a non-interactive shell, hence the copy to fd 3 first.
  'exec 3<&0; "$0" "$@" & c=$!; echo "$c"; (cat <&3 >/dev/null; kill -9 "$c" 2>/dev/null) & wait "$c"';

/** Path of the dnsmasq binary (`DNSMASQ_PATH` overrides the usual places), or `undefined`. */
export function findDnsmasq(): string | undefined {
  const override = process.env.DNSMASQ_PATH;
  return (override === undefined ? CANDIDATES : [override]).find((path) => existsSync(path));
}

/**
 * Whether dnsmasq tests can run here: `run` when installed, `skip` when missing locally, `fail` when missing under
 * CI (there the missing server is a broken setup, not a reason to skip).
 */
export function dnsmasqAvailability(): 'run' | 'skip' | 'fail' {
  if (findDnsmasq() !== undefined) return 'run';
  return process.env.CI ? 'fail' : 'skip';
}

/** A running dnsmasq. Always `stop()` it (afterEach/afterAll). */
export class Dnsmasq {
  readonly #dir: string;
  readonly #binary: string;
  #records: DnsmasqRecords;
  #port = 0;
  /** The watchdog shell. */
  #child: ChildProcess | undefined;
  /** dnsmasq's own pid (signals go here, not to the watchdog). */
  #pid = 0;
  #log = '';

  private constructor(binary: string, dir: string, records: DnsmasqRecords) {
    this.#binary = binary;
    this.#dir = dir;
    this.#records = records;
  }

  /** Starts dnsmasq serving `records` on a free 127.0.0.1 port; resolves once it answers. */
  static async start(records: DnsmasqRecords = {}): Promise<Dnsmasq> {
    const binary = findDnsmasq();
    if (binary === undefined) throw new Error('dnsmasq is not installed (apt-get install -y dnsmasq)');
    const server = new Dnsmasq(binary, await mkdtemp(join(tmpdir(), 'switchyard-dnsmasq-')), records);
    // The free port is found by binding to port 0 and releasing it; another process may grab it in between, so retry.
    for (let attempt = 0; ; attempt++) {
      try {
        await server.#launch(await freeUdpPort());
        return server;
      } catch (error) {
        server.#kill();
        if (attempt >= 4) {
          await rm(server.#dir, { recursive: true, force: true });
          throw error;
        }
      }
    }
  }

  /** The port dnsmasq listens on (UDP and TCP). */
  get port(): number {
    return this.#port;
  }

  /** `127.0.0.1:port`, for the resolver's `servers` option. */
  get server(): string {
    return `127.0.0.1:${this.#port}`;
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Replaces the A/AAAA records and reloads (SIGHUP); resolves once dnsmasq has re-read the hosts file. */
  async setHosts(hosts: readonly (readonly [string, string])[]): Promise<void> {
    this.#records = { ...this.#records, hosts };
    await this.#writeHosts();
    if (!this.running) throw new Error('dnsmasq is not running');
    const marker = this.#log.length;
    process.kill(this.#pid, 'SIGHUP');
    await this.#waitForLog(`read ${this.#hostsPath}`, marker);
  }

  /** Restarts with new records on the same port (SRV records are only read at start). */
  async restart(records: DnsmasqRecords = this.#records): Promise<void> {
    this.#records = records;
    await this.#terminate();
    await this.#launch(this.#port);
  }

  /** Kills the server (SIGKILL) without cleaning up, to test a dead name server. `restart()` brings it back. */
  async kill(): Promise<void> {
    await this.#terminate('SIGKILL');
  }

  /** Stops the server and removes its files. Idempotent. */
  async stop(): Promise<void> {
    await this.#terminate();
    await rm(this.#dir, { recursive: true, force: true });
  }

  get #hostsPath(): string {
    return join(this.#dir, 'hosts');
  }

  async #writeHosts(): Promise<void> {
    const lines = [...(this.#records.hosts ?? []), ['127.0.0.1', READY_NAME] as const];
    await writeFile(this.#hostsPath, `${lines.map(([address, name]) => `${address} ${name}`).join('\n')}\n`);
  }

  async #launch(port: number): Promise<void> {
    this.#port = port;
    await this.#writeHosts();
    const conf = [
      'no-resolv',
      'no-hosts',
      'local=/test/',
      `addn-hosts=${this.#hostsPath}`,
      `local-ttl=${this.#records.ttl ?? 5}`,
      ...(this.#records.srv ?? []).map(
        (s) => `srv-host=${s.name},${s.target},${s.port},${s.priority},${s.weight}`,
      ),
    ];
    const confPath = join(this.#dir, 'dnsmasq.conf');
    await writeFile(confPath, `${conf.join('\n')}\n`);
    const args = [
      '--keep-in-foreground',
      `--conf-file=${confPath}`,
      '--listen-address=127.0.0.1',
      `--port=${port}`,
      '--bind-interfaces',
      '--pid-file=',
      '--log-facility=-',
      // As root dnsmasq would drop privileges to `nobody`, which cannot read the temp folder.
      ...(userInfo().uid === 0 ? ['--user=root'] : []),
    ];
    this.#log = '';
    const child = spawn('sh', ['-c', WATCHDOG, this.#binary, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.#log += chunk;
    });
    child.stdout?.setEncoding('utf8');
    const [pidLine] = (await once(child.stdout!, 'data')) as [string];
    this.#pid = Number.parseInt(pidLine, 10);
    await this.#waitUntilAnswering();
  }

  async #waitUntilAnswering(): Promise<void> {
    const probe = new dns.Resolver({ timeout: 100, tries: 1 });
    probe.setServers([this.server]);
    const deadline = Date.now() + 5_000;
    for (;;) {
      if (!this.running) throw new Error(`dnsmasq exited: ${this.#log.trim()}`);
      try {
        await probe.resolve4(READY_NAME);
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`dnsmasq did not answer within 5 s: ${String(error)}\n${this.#log}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  async #waitForLog(text: string, from: number): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!this.#log.slice(from).includes(text)) {
      if (Date.now() > deadline) throw new Error(`dnsmasq did not log "${text}" within 5 s:\n${this.#log}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async #terminate(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined) return;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      try {
        process.kill(this.#pid, signal);
      } catch {
        // Already gone; the watchdog exits with it.
      }
      await exited;
    }
    child.stdin?.end(); // releases the watchdog's stdin reader
  }

  #kill(): void {
    const child = this.#child;
    this.#child = undefined;
    if (this.#pid > 0) {
      try {
        process.kill(this.#pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    child?.stdin?.end();
  }
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
