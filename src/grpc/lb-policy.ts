/**
 * The `switchyard` grpc-js LB policy: a switchyard {@link Balancer} driving grpc-js subchannels.
 *
 *   resolver ─endpoints─▶ policy ─a subchannel per address of each endpoint (ref'd)─▶ connectivity + health watchers
 *                            │
 *                            └─ READY ∧ healthy endpoints ─▶ BalancerFeed (resolver update) ─▶ SwitchyardPicker (picker.ts)
 *
 * The Balancer only ever sees endpoints grpc-js can send on right now (READY, and healthy by any grpc-js parent such
 * as `outlier_detection`), so every lease maps to a usable subchannel and switchyard's own health rules (outlier
 * detection, panic threshold, slow start) work among connected endpoints. An endpoint whose connection drops leaves
 * the Balancer like a removed one: its outstanding leases release normally, and it comes back with its state (latency
 * estimate, ejection) if it reconnects before draining, else as new.
 *
 * Lifecycle rules from the grpc-js notes (pitfalls 3, 4, 6, 9): ref each subchannel after creating it and unref it
 * on removal; read the state of a new subchannel (the pool may hand back a READY one with no event); reconnect every
 * subchannel that goes IDLE (GOAWAY, backoff over); ask for re-resolution when one leaves READY; return exactly the
 * subchannel object the helper gave. A removed endpoint's subchannel stays referenced until its leases drain
 * (Balancer `drained`), so calls in flight finish on their connection.
 *
 * Aggregate state, as grpc-js's round_robin: READY if any endpoint is connected; else CONNECTING (calls queue) while
 * any is connecting or idle; else TRANSIENT_FAILURE with the last connection error in the message.
 */
import { type ChannelOptions, connectivityState as ConnectivityState, experimental } from '@grpc/grpc-js';
import type { Balancer } from '../balancer/balancer.js';
import type { Endpoint } from '../endpoint.js';
import { BalancerFeed } from './balancer-feed.js';
import { PendingPicks } from './call-tracker.js';
import { createBalancer, LB_POLICY_NAME, SwitchyardLbConfig } from './config.js';
import {
  type ConnectionEvents,
  closeConnection,
  type EndpointConnection,
  nextAddress,
  openConnection,
} from './endpoint-connection.js';
import { fromGrpcEndpoint, type GrpcEndpoint, type MappedEndpoint } from './endpoints.js';
import { OrcaWeights } from './orca.js';
import { SwitchyardPicker } from './picker.js';
import { RetainedStateStore, retainedState, retentionKey } from './retained-state.js';
import { StateKeeper } from './state-keeper.js';
import { StatusClassifier } from './status.js';
import { grpcSubset } from './subset.js';

type Child = EndpointConnection;

const liveBalancers = new Set<Balancer>();

/**
 * The Balancers of every live `switchyard` policy instance in this process (one per channel, recreated when a channel
 * leaves idle). For stats and diagnostics: `activeBalancers().find((b) => b.name === 'orders')?.stats()`.
 */
export function activeBalancers(): Balancer[] {
  return [...liveBalancers];
}

export class SwitchyardLoadBalancer implements experimental.LoadBalancer {
  readonly #helper: experimental.ChannelControlHelper;
  #config: SwitchyardLbConfig | undefined;
  #balancer: Balancer | undefined;
  #feed: BalancerFeed | undefined;
  #pending: PendingPicks | undefined;
  #orca: OrcaWeights | undefined;
  #classifier = new StatusClassifier();
  readonly #children = new Map<string, Child>();
  /** Removed by the resolver, still referenced until their leases drain. */
  readonly #retiring = new Map<string, Child>();
  /** Subchannels of the endpoints the Balancer holds (READY and healthy), by address: what the picker maps onto. */
  readonly #usable = new Map<string, experimental.SubchannelInterface>();
  #usableKey = '';
  #lastError: string | null = null;
  #note = '';
  #skipped = 0;
  #destroyed = false;
  #updating = false;
  /** The `balancer.subset` option, applied here so only the subset gets subchannels (src/grpc/subset.ts). */
  #subset: ReturnType<typeof grpcSubset> | undefined;
  #subsetKey: string | undefined;
  /** The resolver's last list and channel options, to recompute the subset when health changes. */
  #mapped = new Map<string, MappedEndpoint>();
  #channelOptions: ChannelOptions = {};
  /** Takes back what an earlier instance of this channel learned, and saves it on destroy (retained-state.ts). */
  readonly #keeper: StateKeeper;

  /**
   * @param store where endpoint state is kept between instances; default the process-wide one. grpc-js 1.14 passes
   *   only `helper`; tests pass their own store. Checked by class, because other grpc-js versions pass more
   *   arguments to LB policy constructors (channel credentials, options), which must not be taken for a store.
   */
  constructor(helper: experimental.ChannelControlHelper, store?: unknown) {
    this.#helper = helper;
    this.#keeper = new StateKeeper(store instanceof RetainedStateStore ? store : retainedState);
  }

  updateAddressList(
    endpointList: experimental.StatusOr<experimental.Endpoint[]>,
    lbConfig: experimental.TypedLoadBalancingConfig,
    options: ChannelOptions,
    resolutionNote: string,
  ): boolean {
    if (!(lbConfig instanceof SwitchyardLbConfig) || this.#destroyed) return false;
    if (lbConfig.options === undefined) {
      // Fail every call with the reason rather than let grpc-js route some other way (config.ts). Drop what an
      // earlier good config built, so no later connectivity change can bring a picker back.
      this.#teardown();
      this.#config = undefined;
      const message = `switchyard LB config rejected: ${lbConfig.error?.message}`;
      this.#helper.updateState(
        ConnectivityState.TRANSIENT_FAILURE,
        new experimental.UnavailablePicker({ details: message }),
        message,
      );
      return true;
    }
    this.#applyConfig(lbConfig);
    this.#keeper.configure(
      retentionKey(options, lbConfig.options.balancer),
      lbConfig.options.stateRetentionMs,
    );
    this.#note = resolutionNote;
    if (!endpointList.ok) {
      // Resolver error: keep serving the last good list; fail only when there is none.
      if (this.#children.size === 0) {
        const message = `switchyard: name resolution failed: ${endpointList.error.details}`;
        this.#helper.updateState(
          ConnectivityState.TRANSIENT_FAILURE,
          new experimental.UnavailablePicker(endpointList.error),
          message,
        );
      }
      return true;
    }
    const mapped = new Map<string, MappedEndpoint>();
    this.#skipped = 0;
    for (const endpoint of endpointList.value as GrpcEndpoint[]) {
      const m = fromGrpcEndpoint(endpoint);
      if (m === undefined) this.#skipped++;
      else if (!mapped.has(m.address)) mapped.set(m.address, m);
    }
    this.#mapped = mapped;
    this.#channelOptions = options;
    this.#sync();
    this.#refresh();
    return mapped.size > 0;
  }

  exitIdle(): void {
    for (const child of this.#children.values()) {
      if (child.subchannel.getConnectivityState() === ConnectivityState.IDLE)
        child.subchannel.startConnecting();
    }
  }

  resetBackoff(): void {
    // SubchannelInterface exposes no backoff reset; subchannels reconnect on their own schedule.
  }

  /**
   * grpc-js calls this when the channel goes idle and when it is closed (the same call): what the Balancer learned is
   * saved for the channel's next instance (retained-state.ts), then everything is released.
   */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    if (this.#config?.options !== undefined) this.#keeper.saveAll();
    this.#teardown();
  }

  /** Releases every subchannel and the Balancer. */
  #teardown(): void {
    this.#pending?.releaseAll();
    for (const child of [...this.#children.values(), ...this.#retiring.values()]) this.#release(child);
    this.#children.clear();
    this.#retiring.clear();
    this.#usable.clear();
    this.#usableKey = '';
    this.#orca?.close();
    this.#orca = undefined;
    this.#dropBalancer();
  }

  getTypeName(): string {
    return LB_POLICY_NAME;
  }

  // ---- internals -------------------------------------------------------------------------------------------

  #applyConfig(config: SwitchyardLbConfig): void {
    const options = config.options!;
    const previous = this.#config;
    this.#config = config;
    const balancer = this.#balancer;
    if (balancer && previous?.sameBalancer(config)) {
      // The same Balancer: apply what changed in place, so its estimates, ejections and in-flight counts survive.
      const before = previous.options!;
      const clusterPolicyGone = before.cluster?.policy !== undefined && options.cluster?.policy === undefined;
      if (clusterPolicyGone || JSON.stringify(before.policy) !== JSON.stringify(options.policy)) {
        balancer.setPolicy(options.policy);
      }
      // Cluster settings go to the Balancer with the next endpoint push (#refresh).
      if (JSON.stringify(before.cluster) !== JSON.stringify(options.cluster)) this.#usableKey = '';
    } else {
      this.#dropBalancer();
      const feed = new BalancerFeed();
      const balancer = createBalancer(options, feed, [this.#keeper]);
      this.#keeper.use(balancer);
      balancer.on('drained', this.#onDrained);
      liveBalancers.add(balancer);
      this.#balancer = balancer;
      this.#feed = feed;
      this.#usableKey = '';
      this.#pending = new PendingPicks(balancer.clock, options.unstartedPickTimeoutMs);
    }
    this.#classifier = new StatusClassifier(options.failureStatuses);
    const subsetKey = JSON.stringify(options.balancer.subset);
    if (subsetKey !== this.#subsetKey) {
      this.#subsetKey = subsetKey;
      this.#subset = options.balancer.subset === undefined ? undefined : grpcSubset(options.balancer.subset);
    }
    if (
      JSON.stringify(previous?.options?.orca) !== JSON.stringify(options.orca) ||
      this.#orca === undefined
    ) {
      this.#orca?.close();
      this.#orca =
        options.orca === undefined
          ? undefined
          : new OrcaWeights(options.orca, this.#balancer!.clock, () => this.#refresh());
    }
  }

  #dropBalancer(): void {
    const balancer = this.#balancer;
    if (balancer === undefined) return;
    this.#balancer = undefined;
    this.#feed = undefined;
    this.#pending?.releaseAll();
    balancer.off('drained', this.#onDrained);
    liveBalancers.delete(balancer);
    void balancer.close();
    // Nothing will report these drained any more.
    for (const child of this.#retiring.values()) this.#release(child);
    this.#retiring.clear();
  }

  /** Subchannels for the wanted endpoints (all, or the subset), retiring the rest. */
  #sync(): void {
    const wanted =
      this.#subset === undefined
        ? this.#mapped
        : this.#subset.wanted(this.#mapped, (address) => this.#connectable(address));
    this.#updating = true;
    for (const [address, child] of this.#children) {
      if (!wanted.has(address)) this.#retire(child);
    }
    for (const m of wanted.values()) this.#add(m, this.#channelOptions);
    this.#updating = false;
  }

  /** For subset widening: an endpoint without a subchannel yet counts as healthy until tried. */
  #connectable(address: string): boolean {
    const child = this.#children.get(address);
    if (child === undefined) return true;
    if (child.failed) return false;
    return (
      child.subchannel.getConnectivityState() !== ConnectivityState.READY || child.subchannel.isHealthy()
    );
  }

  #add(m: MappedEndpoint, options: ChannelOptions): void {
    const existing = this.#children.get(m.address) ?? this.#retiring.get(m.address);
    if (existing !== undefined) {
      existing.input = m.input;
      this.#retiring.delete(m.address);
      this.#children.set(m.address, existing);
      return;
    }
    // New to this instance: an earlier instance of the channel may have left its state (applied when it is READY).
    this.#keeper.take(m.address);
    this.#children.set(m.address, openConnection(this.#helper, m, options, this.#connectionEvents));
  }

  readonly #connectionEvents: ConnectionEvents = {
    onState: (child, previous, next, errorMessage) => this.#onState(child, previous, next, errorMessage),
    onHealth: () => {
      if (this.#subset !== undefined) this.#sync();
      this.#refresh();
    },
  };

  #retire(child: Child): void {
    this.#children.delete(child.address);
    this.#keeper.drop(child.address);
    if (this.#usable.has(child.address)) {
      // In the Balancer: keep the connection until its leases drain (the next #refresh removes it, and the
      // Balancer reports `drained` at once when it has none).
      this.#retiring.set(child.address, child);
    } else {
      this.#release(child);
    }
  }

  #release(child: Child): void {
    closeConnection(this.#helper, child);
  }

  readonly #onDrained = (endpoint: Endpoint): void => {
    const child = this.#retiring.get(endpoint.address);
    if (child === undefined) return;
    this.#retiring.delete(endpoint.address);
    this.#release(child);
  };

  #onState(
    child: Child,
    previous: ConnectivityState,
    next: ConnectivityState,
    errorMessage: string | undefined,
  ): void {
    if (this.#destroyed || this.#children.get(child.address) !== child) return;
    if (errorMessage) this.#lastError = `${child.address}: ${errorMessage}`;
    if (previous === ConnectivityState.READY && next !== ConnectivityState.READY) {
      // The endpoint set may have changed (a pod went away); resolvers rate-limit this.
      this.#helper.requestReresolution();
    }
    if (next === ConnectivityState.TRANSIENT_FAILURE && nextAddress(child)) {
      // Trying the endpoint's next address: connecting, not failed.
      this.#refresh();
      return;
    }
    // READY -> IDLE on GOAWAY or a dropped connection, TRANSIENT_FAILURE -> IDLE after backoff: nobody reconnects
    // a subchannel unless its policy does.
    if (next === ConnectivityState.IDLE) child.subchannel.startConnecting();
    const failed =
      next === ConnectivityState.TRANSIENT_FAILURE || (child.failed && next !== ConnectivityState.READY);
    if (failed !== child.failed) {
      child.failed = failed;
      // The subset widens past a member that cannot connect, and narrows again once it is back.
      if (this.#subset !== undefined) this.#sync();
    }
    this.#refresh();
  }

  /** Recomputes the usable set, feeds it to the Balancer, and reports the aggregate state and a new picker. */
  #refresh(): void {
    const balancer = this.#balancer;
    if (this.#destroyed || this.#updating || balancer === undefined) return;
    const ready: Child[] = [];
    this.#usable.clear();
    let connecting = 0;
    let unhealthy = 0;
    for (const child of this.#children.values()) {
      const state = child.subchannel.getConnectivityState();
      if (state === ConnectivityState.READY) {
        if (child.subchannel.isHealthy()) {
          ready.push(child);
          this.#usable.set(child.address, child.subchannel);
        } else {
          unhealthy++;
        }
      } else if (state === ConnectivityState.CONNECTING || state === ConnectivityState.IDLE) {
        connecting++;
      }
    }
    const orca = this.#orca;
    if (orca !== undefined) orca.set(orca.compute(this.#usable.keys()));
    const inputs = ready.map((child) => {
      const weight = orca?.weightOf(child.address);
      return weight === undefined ? child.input : { ...child.input, weight };
    });
    const key = JSON.stringify(inputs);
    if (key !== this.#usableKey) {
      this.#usableKey = key;
      // As a resolver update (the address policy's resolver defaults apply), with the control plane's settings.
      this.#feed!.push(inputs, this.#config?.options?.cluster);
    }
    this.#report(balancer, inputs.length, connecting, unhealthy);
  }

  /** Reports the aggregate state: READY with a new picker, CONNECTING, or TRANSIENT_FAILURE saying why. */
  #report(balancer: Balancer, usable: number, connecting: number, unhealthy: number): void {
    const name = balancer.name;
    const total = this.#children.size;
    const orca = this.#orca;
    if (usable > 0) {
      const picker = new SwitchyardPicker({
        balancer,
        subchannels: this.#usable,
        pending: this.#pending!,
        classifier: this.#classifier,
        orca,
        hashHeader: this.#config?.options?.hashHeader,
        unavailableMessage: `switchyard (${name}): none of the ${usable} connected endpoints is routable (ejected or unhealthy, and the panic threshold does not apply)`,
      });
      this.#helper.updateState(ConnectivityState.READY, picker, null);
    } else if (connecting > 0) {
      this.#helper.updateState(ConnectivityState.CONNECTING, new experimental.QueuePicker(this), null);
    } else {
      const message = this.#failureMessage(name, total, unhealthy);
      this.#helper.updateState(
        ConnectivityState.TRANSIENT_FAILURE,
        new experimental.UnavailablePicker({ details: message }),
        message,
      );
    }
  }

  #failureMessage(name: string, total: number, unhealthy: number): string {
    if (total === 0) {
      const skipped =
        this.#skipped > 0 ? ` (${this.#skipped} Unix-socket endpoints skipped: not supported)` : '';
      return `switchyard (${name}): no addresses resolved${skipped}. Resolution note: ${this.#note || 'none'}`;
    }
    if (unhealthy > 0) {
      return `switchyard (${name}): ${unhealthy} of ${total} endpoints are connected but reported unhealthy (e.g. ejected by outlier_detection); the others have no connection. Last error: ${this.#lastError ?? 'none'}`;
    }
    return `switchyard (${name}): no connection to any of ${total} endpoints. Last error: ${this.#lastError ?? 'none'}`;
  }
}
