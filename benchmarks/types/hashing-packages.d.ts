// Minimal types for the npm consistent-hashing packages the hashing benchmark compares against (they ship none).

declare module 'hashring' {
  /** ketama ring (MD5, 40 vnodes × 4 replicas per server), with an LRU cache of recent keys. */
  export default class HashRing {
    constructor(servers: string[] | Record<string, number | { weight?: number; vnodes?: number }>);
    get(key: string): string;
    add(servers: string | string[]): this;
    remove(server: string): this;
  }
}

declare module 'consistent-hash' {
  /** PJW-hashed ring with 40 control points per node by default. */
  export default class ConsistentHash {
    constructor(options?: { range?: number; weight?: number; distribution?: 'random' | 'uniform' });
    add(node: string, weight?: number): this;
    remove(node: string): this;
    get(name: string): string | null;
  }
}
