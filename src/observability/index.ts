/**
 * Observability: the diagnostics channels switchyard publishes on, and helpers to consume them.
 */
export { type ChannelName, channelNames, channels, publish } from './channels.js';
export {
  type ChannelKey,
  type ChannelListener,
  type ChannelMessage,
  countEvents,
  type EventCounts,
  subscribeAll,
} from './subscribe.js';
