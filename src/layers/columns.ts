/**
 * Records of one shape as columns, inside MessagePack: an array of plain objects with the same
 * own keys in the same order, each field all numbers or all strings, packs as one MessagePack
 * extension (type COLUMNS) holding a Float64 column per number field and each string field's
 * strings in one piece. A shuffle's records are mostly such arrays, and msgpackr spent most of
 * a scatter worker's time packing them one object at a time. Any other array packs as plain
 * MessagePack. The extension is registered with msgpackr, so every `Msgpack` layer decodes it,
 * and strings come back exactly (an unpaired surrogate too, which UTF-8 cannot hold).
 */
import { addExtension } from 'msgpackr';

/** The extension type (msgpackr's own are 0x42 and 0x62–0x78 and 0xff). */
const COLUMNS = 0x43;
const VERSION = 1;
/** Below this many records a frame packs as MessagePack: the shape costs more than it saves. */
const MIN_RECORDS = 8;
const MAX_FIELDS = 64;
/** Shapes compiled per thread, at most: records of ever new shapes (keys made from data) pack as MessagePack. */
const MAX_SHAPES = 256;
/** Kinds of column. */
const NUMBERS = 0;
const LATIN1 = 1;
const UTF16 = 2;
/** Typed arrays are written in the machine's byte order; a reader of the other order refuses them. */
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * What a packer gathered of each string field: its code units used in the scratch text, and
 * their OR (below 256: the text fits latin1). Numbers, lengths and text are in the scratch.
 */
type Packer = (records: readonly unknown[], s: Scratch) => [number, number][] | undefined;
type Maker = (numbers: Float64Array[], strings: string[], lengths: Int32Array[], n: number) => unknown[];

const packers = new Map<string, Packer>();
const makers = new Map<string, Maker>();

/**
 * Columns reused by every call of this thread (a typed array of its own per frame cost more to
 * allocate, and to collect, than packing the frame): the bytes are copied out before a call ends.
 */
interface Scratch {
  n: number;
  numbers: Float64Array[];
  lengths: Int32Array[];
  /** Each string field's code units, written one by one (joining strings made ropes to flatten: most of a frame's garbage). */
  text: Uint16Array[];
  /** `text[j]` with room for `need` code units, what it held kept. */
  grow(j: number, need: number): Uint16Array;
}
const scratch: Scratch = {
  n: 0,
  numbers: [],
  lengths: [],
  text: [],
  grow(j, need) {
    const old = this.text[j]!;
    const t = new Uint16Array(Math.max(need, 2 * old.length));
    t.set(old);
    return (this.text[j] = t);
  },
};
function scratchFor(n: number, numbers: number, strings: number): Scratch {
  if (n > scratch.n) Object.assign(scratch, { n: Math.max(n, 2 * scratch.n), numbers: [], lengths: [] });
  while (scratch.numbers.length < numbers) scratch.numbers.push(new Float64Array(scratch.n));
  while (scratch.lengths.length < strings) scratch.lengths.push(new Int32Array(scratch.n));
  while (scratch.text.length < strings) scratch.text.push(new Uint16Array(1024));
  return scratch;
}

/**
 * `records` as one COLUMNS extension (a MessagePack value) after `headroom` bytes left for the
 * caller (a frame's header), or undefined when they are not records of one shape with number
 * and string fields only.
 */
export function packColumns(records: readonly unknown[], headroom = 0): Uint8Array | undefined {
  const n = records.length;
  if (n < MIN_RECORDS) return undefined;
  const first = records[0];
  if (typeof first !== 'object' || first === null || Object.getPrototypeOf(first) !== Object.prototype) return undefined;
  const names = Object.keys(first);
  // a field named __proto__ packs as MessagePack, which msgpackr reads back as __proto_: every record alike
  if (names.length === 0 || names.length > MAX_FIELDS || names.includes('__proto__')) return undefined;
  const kinds = names.map((k) => typeof (first as Record<string, unknown>)[k]);
  if (kinds.some((t) => t !== 'number' && t !== 'string')) return undefined;
  const id = JSON.stringify([names, kinds]);
  let packer = packers.get(id);
  if (packer === undefined) {
    if (packers.size >= MAX_SHAPES) return undefined;
    packers.set(id, (packer = compilePacker(names, kinds)));
  }
  const strings = kinds.filter((k) => k === 'string').length;
  const s = scratchFor(n, kinds.length - strings, strings);
  const texts = packer(records, s);
  return texts && serialize(names, kinds, s, texts, n, headroom);
}

/**
 * A compiled packer for one shape: it checks each record has exactly the first's own keys, in
 * order, and fields of the first's types, gathering the columns; undefined at the first that has not.
 */
function compilePacker(names: string[], kinds: string[]): Packer {
  const lines: string[] = [];
  const decl: string[] = [];
  const texts: string[] = [];
  let f = 0;
  let s = 0;
  names.forEach((name, j) => {
    const get = `r[${JSON.stringify(name)}]`;
    if (kinds[j] === 'number') {
      decl.push(`const f${f} = S.numbers[${f}];`);
      lines.push(`{ const v = ${get}; if (typeof v !== 'number') return undefined; f${f++}[i] = v; }`);
    } else {
      decl.push(`let u${s} = S.text[${s}], p${s} = 0, m${s} = 0; const l${s} = S.lengths[${s}];`);
      lines.push(`{
        const v = ${get}; if (typeof v !== 'string') return undefined;
        const L = v.length;
        if (p${s} + L > u${s}.length) u${s} = S.grow(${s}, p${s} + L);
        for (let c = 0; c < L; c++) { const x = v.charCodeAt(c); m${s} |= x; u${s}[p${s}++] = x; }
        l${s}[i] = L;
      }`);
      texts.push(`[p${s}, m${s}]`);
      s++;
    }
  });
  const source = `
    return (records, S) => {
      const n = records.length;
      ${decl.join(' ')}
      for (let i = 0; i < n; i++) {
        const r = records[i];
        if (typeof r !== 'object' || r === null || Object.getPrototypeOf(r) !== Object.prototype) return undefined;
        let w = 0;
        for (const k in r) if (k !== K[w++]) return undefined;
        if (w !== ${names.length}) return undefined;
        ${lines.join('\n')}
      }
      return [${texts.join(', ')}];
    };`;
  return (new Function('K', source) as (k: string[]) => Packer)(names);
}

/**
 * The extension's bytes: `0xc9 · u32 length · type`, then version, byte order, n (u32), the
 * names as JSON (u32 length · UTF-8), and per field its kind and data: n doubles, or n lengths
 * (u32, in code units) then u32 byte length · text (latin1 when every code unit fits a byte,
 * else UTF-16).
 */
function serialize(names: string[], kinds: string[], scratch: Scratch, texts: [number, number][], n: number, headroom: number): Uint8Array {
  const { numbers, lengths, text } = scratch;
  const nameJson = JSON.stringify(names);
  const wide = texts.map(([, or]) => or > 0xff);
  let size = 1 + 1 + 4 + 4 + Buffer.byteLength(nameJson);
  for (let j = 0, s = 0; j < kinds.length; j++)
    size += 1 + (kinds[j] === 'number' ? 8 * n : 4 * n + 4 + texts[s]![0] * (wide[s++] ? 2 : 1));
  const out = Buffer.allocUnsafe(headroom + 6 + size);
  out[headroom] = 0xc9;
  out.writeUInt32BE(size, headroom + 1);
  out[headroom + 5] = COLUMNS;
  let at = headroom + 6;
  out[at++] = VERSION;
  out[at++] = LITTLE ? 1 : 0;
  out.writeUInt32LE(n, at);
  const nameBytes = out.write(nameJson, at + 8);
  out.writeUInt32LE(nameBytes, at + 4);
  at += 8 + nameBytes;
  const raw = (a: Float64Array | Int32Array, bytes: number) => new Uint8Array(a.buffer, 0, bytes);
  for (let j = 0, f = 0, s = 0; j < kinds.length; j++) {
    if (kinds[j] === 'number') {
      out[at++] = NUMBERS;
      out.set(raw(numbers[f++]!, 8 * n), at);
      at += 8 * n;
    } else {
      out[at++] = wide[s] ? UTF16 : LATIN1;
      out.set(raw(lengths[s]!, 4 * n), at);
      at += 4 * n;
      const [units] = texts[s]!;
      const u = text[s]!;
      const bytes = wide[s] ? 2 * units : units;
      out.writeUInt32LE(bytes, at);
      at += 4;
      if (wide[s]) out.set(new Uint8Array(u.buffer, 0, bytes), at);
      else for (let k = 0; k < units; k++) out[at + k] = u[k]!;
      at += bytes;
      s++;
    }
  }
  return out;
}

/** The records of a COLUMNS extension's data (what msgpackr hands its unpack). */
function unpackColumns(data: Uint8Array): unknown[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf[0] !== VERSION) throw new Error(`record columns of version ${buf[0]}: written by a newer partd`);
  if ((buf[1] === 1) !== LITTLE) throw new Error('record columns written on a machine of the other byte order');
  const n = buf.readUInt32LE(2);
  const nameLength = buf.readUInt32LE(6);
  let at = 10;
  const names = JSON.parse(buf.toString('utf8', at, (at += nameLength))) as string[];
  // copied into this thread's scratch columns: a typed array needs an aligned offset
  const strings: string[] = [];
  const kinds: string[] = [];
  const at0 = at;
  let numberCount = 0;
  for (let j = 0; j < names.length; j++) {
    const kind = buf[at++];
    if (kind === NUMBERS) (numberCount++, (at += 8 * n));
    else at += 4 * n + 4 + buf.readUInt32LE(at + 4 * n);
  }
  const { numbers, lengths } = scratchFor(n, numberCount, names.length - numberCount);
  at = at0;
  for (let j = 0, f = 0, s = 0; j < names.length; j++) {
    const kind = buf[at++];
    if (kind === NUMBERS) {
      new Uint8Array(numbers[f++]!.buffer).set(buf.subarray(at, (at += 8 * n)));
      kinds.push('n');
    } else {
      if (kind !== LATIN1 && kind !== UTF16) throw new Error(`record columns: unknown column kind ${kind}`);
      new Uint8Array(lengths[s++]!.buffer).set(buf.subarray(at, (at += 4 * n)));
      const bytes = buf.readUInt32LE(at);
      at += 4;
      strings.push(buf.toString(kind === UTF16 ? 'utf16le' : 'latin1', at, (at += bytes)));
      kinds.push('s');
    }
  }
  const id = JSON.stringify([names, kinds]);
  let make = makers.get(id);
  if (make === undefined) {
    make = compileMaker(names, kinds);
    if (makers.size < MAX_SHAPES) makers.set(id, make); // a reader must read every shape; it keeps the first ones
  }
  return make(numbers, strings, lengths, n);
}

/** A compiled `(columns) => records` for one shape: object literals of one shape. */
function compileMaker(names: string[], kinds: string[]): Maker {
  let f = 0;
  let s = 0;
  const offsets: string[] = [];
  // a name as a literal key (computed for __proto__, which as a literal would set the prototype; packed by no writer here)
  const key = (name: string) => (name === '__proto__' ? '["__proto__"]' : JSON.stringify(name));
  const fields = names.map((name, j) => {
    if (kinds[j] === 'n') return `${key(name)}: f${f++}[i]`;
    offsets.push(`let o${s} = 0; const t${s} = strings[${s}], l${s} = lengths[${s}];`);
    const field = `${key(name)}: t${s}.slice(o${s}, (o${s} += l${s}[i]))`;
    s++;
    return field;
  });
  const source = `
    ${Array.from({ length: f }, (_, k) => `const f${k} = numbers[${k}];`).join(' ')}
    ${offsets.join(' ')}
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = { ${fields.join(', ')} };
    return out;`;
  return new Function('numbers', 'strings', 'lengths', 'n', source) as Maker;
}

addExtension({ type: COLUMNS, unpack: unpackColumns } as Parameters<typeof addExtension>[0]);
