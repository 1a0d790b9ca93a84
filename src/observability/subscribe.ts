/**
 * Helpers for consuming switchyard's diagnostics channels without knowing their names: subscribe to all of them
 * at once, or count events per channel and balancer for a metrics exporter (see examples/prometheus.ts).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { type ChannelName, channelNames } from './channels.js';

/** The key of a channel in {@link channelNames}: `endpointEjected`, `retry`, … */
export type ChannelKey = keyof typeof channelNames;

/** Every message carries the name of the Balancer that published it; the other fields depend on the channel. */
export interface ChannelMessage {
  readonly balancer: string;
  readonly [field: string]: unknown;
}

/** Called with each message and the channel it came on. */
export type ChannelListener = (message: ChannelMessage, channel: ChannelKey, name: ChannelName) => void;

/**
 * Subscribes `listener` to every switchyard channel (or only those in `only`). Returns a function that
 * unsubscribes all of them; call it when done, since diagnostics-channel subscriptions live as long as the process.
 *
 * ```ts
 * const stop = subscribeAll((msg, channel) => log.info({ channel, ...msg }, 'switchyard'));
 * ```
 */
export function subscribeAll(listener: ChannelListener, only?: readonly ChannelKey[]): () => void {
  const keys = only ?? (Object.keys(channelNames) as ChannelKey[]);
  const subscriptions = keys.map((key) => {
    const name = channelNames[key];
    const onMessage = (message: unknown) => listener(message as ChannelMessage, key, name);
    diagnosticsChannel.subscribe(name, onMessage);
    return () => diagnosticsChannel.unsubscribe(name, onMessage);
  });
  let active = true;
  return () => {
    if (!active) return;
    active = false;
    for (const unsubscribe of subscriptions) unsubscribe();
  };
}

/** Counts of events per channel and balancer, kept by {@link countEvents}. */
export interface EventCounts {
  /** `counts.get(channel)?.get(balancer)`: events so far. */
  readonly counts: ReadonlyMap<ChannelKey, ReadonlyMap<string, number>>;
  /** Stops counting (unsubscribes). */
  stop(): void;
}

/**
 * Counts every switchyard event by channel and balancer: the numbers a metrics exporter turns into counters
 * (`switchyard_events_total{event="endpointEjected", balancer="orders"}`).
 */
export function countEvents(only?: readonly ChannelKey[]): EventCounts {
  const counts = new Map<ChannelKey, Map<string, number>>();
  const stop = subscribeAll((message, channel) => {
    let byBalancer = counts.get(channel);
    if (byBalancer === undefined) counts.set(channel, (byBalancer = new Map()));
    const balancer = typeof message.balancer === 'string' ? message.balancer : 'unknown';
    byBalancer.set(balancer, (byBalancer.get(balancer) ?? 0) + 1);
  }, only);
  return { counts, stop };
}
