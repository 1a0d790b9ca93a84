/** Affinity keys: the `hashKey` for ring_hash / maglev from a header, a cookie or a caller function. */
export type {
  AffinityKeyConfig,
  AffinityKeyExtractor,
  HeaderGetter,
  HeaderRecord,
  HeaderSource,
} from './keys.js';
export {
  callerKey,
  cookieKey,
  findCookie,
  firstKey,
  headerKey,
  isBinaryHeader,
  parseAffinityKey,
  readHeader,
} from './keys.js';
