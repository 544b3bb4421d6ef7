/** Reading back the checkable records of test/fixtures/record.mjs. */

/** Parses "<w:i:len>payload" records, checking each payload. */
export function parseRecords(bytes: Uint8Array): [number, number][] {
  const buf = Buffer.from(bytes);
  const out: [number, number][] = [];
  let pos = 0;
  while (pos < buf.length) {
    const end = buf.indexOf('>', pos);
    const m = /^<(\d+):(\d+):(\d+)$/.exec(buf.toString('latin1', pos, end));
    if (!m) throw new Error(`torn record at byte ${pos}`);
    const [w, i, len] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const payload = buf.subarray(end + 1, end + 1 + len);
    if (payload.length !== len || payload.some((x) => x !== (w * 31 + i) % 251)) throw new Error(`bad payload of record ${w}:${i}`);
    out.push([w, i]);
    pos = end + 1 + len;
  }
  return out;
}
