/** Consistent hashing (docs/consistent-hashing.md): XXH32, XXH64 and the options of `ring_hash`, `multiprobe` and `maglev`. */
export type { MaglevOptions } from '../pickers/maglev.js';
export { defaultMaglevOptions, MAX_MAGLEV_TABLE_SIZE } from '../pickers/maglev.js';
export type { MultiprobeOptions } from '../pickers/multiprobe.js';
export { defaultMultiprobeOptions } from '../pickers/multiprobe.js';
export type { RingHashOptions } from '../pickers/ring-hash.js';
export { defaultRingHashOptions, MAX_RING_SIZE } from '../pickers/ring-hash.js';
export { xxh32, xxh32String } from './xxh32.js';
export { xxh64BigInt, xxh64Into, xxh64StringInto } from './xxh64.js';
