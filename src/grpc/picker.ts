/**
 * The grpc-js Picker of the `switchyard` policy: one `Balancer.tryPick()` per call, mapped onto grpc-js pick results.
 *
 *   lease on a connected endpoint   → COMPLETE, with onCallStarted/onCallEnded feeding the lease (call-tracker.ts)
 *   'unavailable' (nothing routable) → TRANSIENT_FAILURE, UNAVAILABLE with why (wait_for_ready calls keep waiting)
 *   'overflow' (every endpoint full) → DROP, UNAVAILABLE: the circuit breaker's answer is final, not retried
 *   a retry the executor picked        → COMPLETE on its lease's endpoint (call-route.ts), or DROP if it left
 *
 * The policy gives the Balancer only endpoints whose subchannel is READY and healthy (lb-policy.ts), so a lease maps
 * to a usable subchannel; the map lookup is the one guard against a race.
 */
import { experimental, Metadata, status as Status } from '@grpc/grpc-js';
import { readHeader } from '../affinity/keys.js';
import type { Balancer } from '../balancer/balancer.js';
import type { Lease } from '../balancer/lease.js';
import { CANCELLED } from '../balancer/outcome.js';
import type { PickContext } from '../balancer/policy/picker.js';
import { type AttemptRoute, routeOf } from './call-route.js';
import { CallTracker, type TrackerContext } from './call-tracker.js';

const { PickResultType } = experimental;
const NO_CONTEXT: PickContext = Object.freeze({});

/** What the picker needs from its policy (its call trackers share it: `pending`, `classifier`, `orca`). */
export interface PickerSource extends TrackerContext {
  readonly balancer: Balancer;
  /** Subchannels by endpoint address (`host:port`), exactly as the channel control helper returned them. */
  readonly subchannels: ReadonlyMap<string, experimental.SubchannelInterface>;
  /** Metadata key to hash on (gRFC A76), if any. */
  readonly hashHeader: string | undefined;
  /** Why nothing is routable, for the TRANSIENT_FAILURE status. */
  readonly unavailableMessage: string;
}

function failure(
  type: experimental.PickResultType.TRANSIENT_FAILURE | experimental.PickResultType.DROP,
  details: string,
): experimental.PickResult {
  return {
    pickResultType: type,
    subchannel: null,
    status: { code: Status.UNAVAILABLE, details, metadata: new Metadata() },
    onCallStarted: null,
    onCallEnded: null,
  };
}

const QUEUE: experimental.PickResult = Object.freeze({
  pickResultType: PickResultType.QUEUE,
  subchannel: null,
  status: null,
  onCallStarted: null,
  onCallEnded: null,
});

/** A snapshot picker; the policy replaces it on every state change (grpc-js re-runs queued picks then). */
export class SwitchyardPicker implements experimental.Picker {
  readonly #source: PickerSource;
  readonly #unavailable: experimental.PickResult;
  readonly #overflow: experimental.PickResult;
  readonly #unroutable: experimental.PickResult;
  /** Reused context for hash keys: `tryPick` is synchronous and keeps no reference to it. */
  readonly #ctx: { hashKey: string | undefined } = { hashKey: undefined };

  constructor(source: PickerSource) {
    this.#source = source;
    this.#unavailable = failure(PickResultType.TRANSIENT_FAILURE, source.unavailableMessage);
    this.#overflow = failure(
      PickResultType.DROP,
      `switchyard (${source.balancer.name}): every routable endpoint is at its in-flight limit (circuit breaker open)`,
    );
    this.#unroutable = failure(
      PickResultType.DROP,
      `switchyard (${source.balancer.name}): the endpoint picked for this retry is no longer connected`,
    );
  }

  pick(args: experimental.PickArgs): experimental.PickResult {
    const source = this.#source;
    const route = routeOf(args.metadata);
    if (route !== undefined) {
      if (route.lease !== undefined) return this.#routed(route, route.lease);
      // grpc-js picks a call again only after dropping its previous pick (its subchannel left READY while call
      // credentials were generated): that pick never starts, so its slot comes back now rather than at the sweep.
      route.picked?.abandon();
    }
    let ctx = NO_CONTEXT;
    if (source.hashHeader !== undefined) {
      this.#ctx.hashKey = hashKeyOf(args.metadata, source.hashHeader);
      ctx = this.#ctx;
    }
    const result = source.balancer.tryPick(ctx);
    if (typeof result === 'string') {
      if (route !== undefined) route.local = result;
      return result === 'unavailable' ? this.#unavailable : this.#overflow;
    }
    const subchannel = source.subchannels.get(result.endpoint.address);
    if (subchannel === undefined) {
      // The endpoint left between the Balancer's update and ours; the next picker will not offer it.
      result.release(CANCELLED);
      return QUEUE;
    }
    const tracker = new CallTracker(subchannel, result, source);
    source.pending.add(tracker);
    if (route !== undefined) {
      // Tell the interceptor where this attempt went, so a retry can pick elsewhere on the same Balancer.
      route.balancer = source.balancer;
      route.address = result.endpoint.address;
      route.classifier = source.classifier;
      route.local = undefined;
      route.picked = tracker;
      tracker.route = route;
      route.onPicked?.();
    }
    return tracker;
  }

  /**
   * An attempt the executor picked (a retry): send it to its lease's endpoint, untracked here — the interceptor
   * releases that lease. If the endpoint is no longer connected on this picker's Balancer, fail it locally with
   * UNAVAILABLE (the interceptor retries elsewhere) rather than queue it for an endpoint that may never return.
   */
  #routed(route: AttemptRoute, lease: Lease): experimental.PickResult {
    const source = this.#source;
    route.classifier = source.classifier;
    const subchannel =
      route.balancer === source.balancer ? source.subchannels.get(lease.endpoint.address) : undefined;
    if (subchannel === undefined || lease.released) {
      route.local = 'unroutable';
      return this.#unroutable;
    }
    route.local = undefined;
    return {
      pickResultType: PickResultType.COMPLETE,
      subchannel,
      status: null,
      onCallStarted: null,
      onCallEnded: null,
    };
  }
}

/**
 * The hash key of a call, by the one affinity-key rule every adapter uses (affinity/keys.ts `readHeader`): the
 * header's values joined with `,` (gRFC A76), `undefined` when the call does not carry it or its value is empty (the
 * hashing policies then pick at random, as A76 asks). `-bin` keys are refused when the config is parsed.
 */
export function hashKeyOf(metadata: Metadata, key: string): string | undefined {
  return readHeader(metadata, key);
}
