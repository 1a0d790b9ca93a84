/** Consistent hashing (docs/consistent-hashing.md): XXH32 and XXH64. The hashing policies' options are exported from the package root (src/index.ts), next to the other policies'. */
export { xxh32, xxh32String } from './xxh32.js';
export { xxh64BigInt, xxh64Into, xxh64StringInto } from './xxh64.js';
