/**
 * The environment of every thread this package starts (the coordinator's side): msgpackr's
 * native string extractor off. Each thread that loads it (msgpackr-extract 3.0.7) re-initialises
 * a token table shared by all threads, zeroing it first, so a thread starting (a worker
 * replaced mid-gather, say) while another thread decoded made that decode take strings from
 * the wrong offsets: wrong values, silently. Decoding strings in JS costs a little more.
 */
export function threadEnv(): NodeJS.ProcessEnv {
  return { ...process.env, MSGPACKR_NATIVE_ACCELERATION_DISABLED: 'true' };
}
