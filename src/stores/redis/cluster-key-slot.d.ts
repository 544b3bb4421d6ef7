/** cluster-key-slot (ioredis' dependency) ships no types: its one function the store uses. */
declare module 'cluster-key-slot' {
  /** The Redis Cluster hash slot (0–16383) of a key, after its hash tag if it has one. */
  export default function calculateSlot(key: string | Buffer): number;
}
