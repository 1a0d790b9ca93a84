/**
 * One endpoint's connection for the `switchyard` policy (lb-policy.ts): a subchannel per TCP address, the one in use
 * carrying its calls, the others waiting their turn. A failed connection moves to the next address, as `pick_first`
 * does within an endpoint, so a dual-stack endpoint is one switchyard endpoint (one set of in-flight counts, latency
 * and health) that reaches its server over whichever address connects.
 *
 * Lifecycle rules from the grpc-js notes (pitfalls 3 and 6): ref each subchannel after creating it and unref it on
 * release; hold exactly the subchannel objects the helper gave (the picker returns them).
 */
import type { ChannelOptions, connectivityState as ConnectivityState, experimental } from '@grpc/grpc-js';
import type { EndpointObject, MappedEndpoint } from './endpoints.js';

/** One endpoint's subchannels and their watchers. */
export interface EndpointConnection {
  readonly address: string;
  input: EndpointObject;
  /** The subchannel of the address in use: the one the Balancer's endpoint maps to. */
  subchannel: experimental.SubchannelInterface;
  /** One per TCP address of the endpoint, in order. */
  readonly subchannels: readonly experimental.SubchannelInterface[];
  readonly onStates: readonly experimental.ConnectivityStateListener[];
  readonly onHealth: (healthy: boolean) => void;
  /** Failed to connect (TRANSIENT_FAILURE) and not READY since: unhealthy for subset widening. */
  failed: boolean;
}

/** What the connection reports to its policy. */
export interface ConnectionEvents {
  /** A state change of the address in use. */
  onState(
    connection: EndpointConnection,
    previous: ConnectivityState,
    next: ConnectivityState,
    errorMessage: string | undefined,
  ): void;
  /** A health change reported by a parent policy (e.g. grpc-js's outlier_detection). */
  onHealth(): void;
}

/** Creates, refs and watches the endpoint's subchannels, and starts connecting its first address. */
export function openConnection(
  helper: experimental.ChannelControlHelper,
  m: MappedEndpoint,
  options: ChannelOptions,
  events: ConnectionEvents,
): EndpointConnection {
  const subchannels = m.subchannelAddresses.map((a) => helper.createSubchannel(a, options));
  const connection: EndpointConnection = {
    address: m.address,
    input: m.input,
    subchannel: subchannels[0]!,
    subchannels,
    // One listener per address (grpc-js passes listeners the inner subchannel, not the wrapper we hold): only the
    // address in use matters.
    onStates: subchannels.map(
      (sub): experimental.ConnectivityStateListener =>
        (_inner, previous, next, _keepalive, errorMessage) => {
          if (sub === connection.subchannel) events.onState(connection, previous, next, errorMessage);
        },
    ),
    onHealth: () => events.onHealth(),
    failed: false,
  };
  subchannels.forEach((sub, i) => {
    sub.ref();
    // Lists the subchannel under the channel in channelz, as grpc-js's own policies do.
    helper.addChannelzChild(sub.getChannelzRef());
    sub.addConnectivityStateListener(connection.onStates[i]!);
    sub.addHealthStateWatcher(connection.onHealth);
  });
  // The pool may hand back a subchannel that is already READY (no event for that): the policy reads the state.
  // startConnecting is a no-op unless IDLE.
  connection.subchannel.startConnecting();
  return connection;
}

/** Stops watching and unrefs every subchannel of the endpoint. */
export function closeConnection(
  helper: experimental.ChannelControlHelper,
  connection: EndpointConnection,
): void {
  connection.subchannels.forEach((sub, i) => {
    sub.removeConnectivityStateListener(connection.onStates[i]!);
    sub.removeHealthStateWatcher(connection.onHealth);
    helper.removeChannelzChild(sub.getChannelzRef());
    sub.unref();
  });
}

/**
 * A connection attempt to the address in use failed: move to the endpoint's next address and connect it. Returns
 * false when the endpoint has one address, or when the failed one was the last (the next round starts from the
 * first address, which reconnects when its backoff ends and it goes IDLE).
 */
export function nextAddress(connection: EndpointConnection): boolean {
  const subs = connection.subchannels;
  const i = subs.indexOf(connection.subchannel);
  if (subs.length < 2 || i === subs.length - 1) {
    if (subs.length > 1) connection.subchannel = subs[0]!;
    return false;
  }
  connection.subchannel = subs[i + 1]!;
  connection.subchannel.startConnecting();
  return true;
}
