/**
 * Observability: the diagnostics channels switchyard publishes on, and helpers to consume them.
 */
// `channels` and `publish` stay internal (modules import them from channels.ts): users subscribe, switchyard publishes.
export { type ChannelName, channelNames } from './channels.js';
export {
  type ChannelKey,
  type ChannelListener,
  type ChannelMessage,
  countEvents,
  type EventCounts,
  subscribeAll,
} from './subscribe.js';
