/**
 * partd for Node: an appendable key→bytes store for shuffles, after Python's partd.
 *
 * Stores: `Lmdb` (the default), `File`, `Dict`, `Spill`, `Redis`. Layers nest around any store:
 * `new Msgpack(new LZ4(new Lmdb()))`.
 */
export { Partd, RawStore, type AppendData, type Nested } from './partd.js';
export { Tuple, tuple, type Key, type KeyPart, type KeyList, type Keys } from './keys.js';
export {
  PartdError,
  ClosedError,
  CorruptFrameError,
  DtypeMismatchError,
  StoreKindError,
  StoreBusyError,
  BadRecordError,
  ShuffleError,
} from './errors.js';
export { TaskTimeoutError, CommitConflict, DiskFullError, UnsendableError, WorkerOutOfMemoryError, WorkerFailedError } from './errors.js';
export { JoinMemoryError } from './errors.js';
export { RedisUnreachableError, RedisOutOfMemoryError, RedisAuthError, RedisWrongTypeError, RedisConnectionLostError } from './errors.js';
export { JobLostError, BlockLostError, NoWorkersError } from './errors.js';
export { Dict } from './stores/dict.js';
export { File } from './stores/file/file.js';
export { Lmdb, type LmdbOptions } from './stores/lmdb/lmdb.js';
export { Spill, keysToFlush } from './stores/spill.js';
/**
 * `Redis`: a store on a Redis server or Cluster (ioredis), shared by processes on many machines;
 * `new Redis('redis://host:6379', { name })` keeps its keys, without a name it is temporary.
 */
export { Redis, type RedisServer, type RedisClusterServer, type RedisStoreOptions } from './stores/redis/redis.js';
export { Layer } from './layers/layer.js';
export { Encode } from './layers/encode.js';
export { Msgpack, Structured } from './layers/values.js';
export { ZLib, Brotli, LZ4 } from './layers/compress.js';
export { TypedArrays, type AnyTypedArray, type Dtype } from './layers/typed-arrays.js';
export { shuffle, ShuffleHandle, type ShuffleStats } from './shuffle/index.js';
export { type ShuffleOptions, type ShuffleInput, type Progress, type GroupByOptions } from './shuffle/options.js';
export { groupBy, iterateGroups, Groups, type GroupRow } from './shuffle/groupby/index.js';
export { sort, sortToFile, type SortOptions, type SortStats } from './shuffle/sort/index.js';
export { join, joinToFile, type JoinRow, type JoinStats, type JoinOptions, type JoinKey, type JoinHow } from './shuffle/join/index.js';
export { partitionOf } from './shuffle/partitioner.js';
/**
 * The distributed engine (docs/cluster.md): `startWorker` runs what `partd worker` runs, taking
 * tasks of jobs given `cluster: { redis }` from a BullMQ queue on that Redis.
 */
export { startWorker, type WorkerOptions, type ClusterWorker } from './shuffle/cluster/worker.js';
export { type ClusterOptions } from './shuffle/cluster/link.js';
export { type Aggregation, type CustomReducer } from './shuffle/groupby/aggregations.js';
export { type ModuleRef } from './shuffle/runtime/modules.js';
export { type PartitionReducer } from './shuffle/protocol.js';
