/**
 * `partd/extend`: what people who write their own store or layer need, apart from what users
 * call (`partd`). A store extends `RawStore` (or `Partd`) and implements the protected hooks on
 * key ids (`appendIds`, `getIds`, `setId`, `deleteIds`, `dropAll`, `closeStore`, `iterateId`,
 * `listIds`); the public methods validate keys and values and check the store is open before
 * calling them. A layer extends `Layer` and reaches the store it wraps through
 * `this.innerHooks` (each call checks that store is open), and closes it with `inner.close()`.
 * `conformance` is the suite every store and layer of this package passes: run it on yours.
 */
export { Partd, RawStore, checkBytes, concatBytes, type AppendData, type Entry, type Hooks, type Nested } from './partd.js';
export { keyId, keyFromId } from './keys.js';
export { Layer } from './layers/layer.js';
export { hashKey } from './shuffle/partitioner.js';
export { conformance, bytesAdapter, type Adapter, type Matchers, type TestApi } from './extend/conformance.js';
