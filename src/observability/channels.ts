/**
 * `node:diagnostics_channel` channels switchyard publishes on. Subscribe from anywhere in the process (an APM agent,
 * a metrics exporter) without holding a reference to any Balancer:
 *
 * ```ts
 * import diagnostics_channel from 'node:diagnostics_channel';
 * diagnostics_channel.subscribe('switchyard:endpoint:ejected', (msg) => console.log(msg));
 * ```
 *
 * Every message carries `balancer` (the Balancer's `name`). Publishing costs one property read when nobody listens.
 */
import diagnosticsChannel from 'node:diagnostics_channel';

/** Channel names, stable across versions. */
export const channelNames = {
  endpointAdded: 'switchyard:endpoint:added',
  endpointRemoved: 'switchyard:endpoint:removed',
  /** An endpoint the address policy refused: `{ balancer, address, source, rule, note? }`. */
  endpointRejected: 'switchyard:endpoint:rejected',
  endpointEjected: 'switchyard:endpoint:ejected',
  endpointReturned: 'switchyard:endpoint:returned',
  panic: 'switchyard:panic',
  healthCheck: 'switchyard:health-check',
  retry: 'switchyard:retry',
  budgetExhausted: 'switchyard:budget:exhausted',
  hedge: 'switchyard:hedge',
  throttled: 'switchyard:throttled',
  overflow: 'switchyard:overflow',
} as const;

export type ChannelName = (typeof channelNames)[keyof typeof channelNames];

/** The channels, created once. */
export const channels = Object.fromEntries(
  Object.entries(channelNames).map(([key, name]) => [key, diagnosticsChannel.channel(name)]),
) as { readonly [K in keyof typeof channelNames]: diagnosticsChannel.Channel };

/** Publishes `message` on `channel` if anyone listens (building the message is the caller's cost, so check first). */
export function publish(channel: diagnosticsChannel.Channel, message: object): void {
  if (channel.hasSubscribers) channel.publish(message);
}
