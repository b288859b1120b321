/**
 * The canonical encoding PBFT authenticates and digests (OSDI §4: digests and MACs are computed
 * over a message's bytes, so every replica must produce the same bytes for the same message).
 * Deterministic and pure JS: a tagged binary format, integers as varints, strings as UTF-8,
 * object keys in sorted order for generic values. Hot messages (Prepare, Commit, PrePrepare,
 * Reply, Request) have hand-written encoders with a fixed field order, so a message is encoded
 * once and then MAC'd per receiver (TOCS §3.1 authenticators).
 *
 * A message's authenticated bytes never include its own `auth`, and exclude fields that verify
 * themselves against a digest inside the message (a PrePrepare's batch, a ViewChange's and a
 * NewView's batches: OSDI §4.2 "<<PRE-PREPARE, v, n, d>_αp, m>").
 */
import type { KvOperation, KvResult } from '../kv/commands.js';
import type { Batch, Checkpoint, ClientRequest, PbftMessage, PreparedEntry, ViewChange } from './types.js';

const T_NULL = 0;
const T_FALSE = 1;
const T_TRUE = 2;
const T_INT = 3;
const T_NEGINT = 4;
const T_FLOAT = 5;
const T_STRING = 6;
const T_BYTES = 7;
const T_ARRAY = 8;
const T_OBJECT = 9;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** One scratch buffer shared by the writers (single-threaded); a writer made while it is in use gets its own. */
let scratch = new Uint8Array(4096);
let scratchInUse = false;

/** Strings up to this many units try a JS ASCII loop; longer ones go to the native encodeInto. */
const ASCII_LOOP_MAX = 64;

/** Bytes of `value` as an unsigned LEB128 varint. */
function varintBytes(value: number): number {
  let bytes = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) bytes++;
  return bytes;
}

/** A growable byte buffer; `finish()` copies the bytes out, so the scratch buffer is reused. */
export class ByteWriter {
  private buf: Uint8Array;
  private len = 0;
  private readonly shared: boolean;

  constructor() {
    this.shared = !scratchInUse;
    this.buf = this.shared ? scratch : new Uint8Array(256);
    if (this.shared) scratchInUse = true;
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    if (this.shared) scratch = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  /** Unsigned LEB128 for non-negative safe integers. */
  varint(value: number): void {
    this.ensure(10);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  int(value: number): void {
    if (Number.isSafeInteger(value)) {
      if (value >= 0) {
        this.byte(T_INT);
        this.varint(value);
      } else {
        this.byte(T_NEGINT);
        this.varint(-value);
      }
      return;
    }
    this.byte(T_FLOAT);
    this.ensure(8);
    new DataView(this.buf.buffer).setFloat64(this.len, value);
    this.len += 8;
  }

  /**
   * UTF-8 straight into the buffer, no allocation: a JS loop for short ASCII strings (keys, ids,
   * digests) and TextEncoder.encodeInto for the rest, with the length prefix sized for the worst
   * case (3 bytes per UTF-16 unit) and moved down if the string was shorter.
   */
  string(value: string): void {
    const length = value.length;
    this.ensure(1 + 10 + 3 * length); // so varint() below never reallocates under us
    const buf = this.buf;
    buf[this.len++] = T_STRING;
    if (length <= ASCII_LOOP_MAX) {
      const start = this.len + 1; // varintBytes(length) === 1
      let k = 0;
      for (; k < length; k++) {
        const c = value.charCodeAt(k);
        if (c >= 0x80) break;
        buf[start + k] = c;
      }
      if (k === length) {
        buf[this.len++] = length;
        this.len += length;
        return;
      }
    }
    const maxPrefix = varintBytes(3 * length);
    const body = this.len + maxPrefix;
    const { written } = utf8.encodeInto(value, buf.subarray(body));
    const prefix = varintBytes(written);
    if (prefix !== maxPrefix) buf.copyWithin(this.len + prefix, body, body + written);
    this.varint(written);
    this.len += written;
  }

  bytes(value: Uint8Array): void {
    this.byte(T_BYTES);
    this.varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.len);
    this.len += value.length;
  }

  nullish(): void {
    this.byte(T_NULL);
  }

  bool(value: boolean): void {
    this.byte(value ? T_TRUE : T_FALSE);
  }

  arrayHeader(length: number): void {
    this.byte(T_ARRAY);
    this.varint(length);
  }

  finish(): Uint8Array {
    const out = this.buf.slice(0, this.len);
    this.release();
    return out;
  }

  /** The bytes written so far, not copied: valid only until release() (see withBytes). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** Gives the shared scratch buffer back; the writer and its views are dead afterwards. */
  release(): void {
    if (this.shared) scratchInUse = false;
  }
}

/**
 * Runs `use` on the bytes `write` produces, without copying them out of the scratch buffer:
 * for bytes that are only hashed or MAC'd and then dropped (a batch's digest, a message's
 * authenticated bytes), which is most of them. `use` must not keep the bytes; a writer created
 * inside `use` gets its own buffer, so nesting is safe.
 */
export function withBytes<T>(write: (w: ByteWriter) => void, use: (bytes: Uint8Array) => T): T {
  const w = new ByteWriter();
  try {
    write(w);
    return use(w.view());
  } finally {
    w.release();
  }
}

// ------------------------------------------------------------------------------ generic values

/** Encodes a JSON-like value (null, boolean, number, string, Uint8Array, array, plain object). */
export function writeValue(w: ByteWriter, value: unknown): void {
  if (value === null || value === undefined) return w.nullish();
  if (typeof value === 'boolean') return w.bool(value);
  if (typeof value === 'number') return w.int(value);
  if (typeof value === 'string') return w.string(value);
  if (value instanceof Uint8Array) return w.bytes(value);
  if (Array.isArray(value)) {
    w.arrayHeader(value.length);
    for (const item of value) writeValue(w, item);
    return;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length > 1) keys.sort();
  let count = 0;
  for (const k of keys) if (obj[k] !== undefined) count++;
  w.byte(T_OBJECT);
  w.varint(count);
  for (const k of keys) {
    if (obj[k] === undefined) continue;
    w.string(k);
    writeValue(w, obj[k]);
  }
}

export function encodeValue(value: unknown): Uint8Array {
  const w = new ByteWriter();
  writeValue(w, value);
  return w.finish();
}

/** Inverse of encodeValue (state transfer decodes checkpoint state with it). Throws on garbage. */
export function decodeValue(bytes: Uint8Array): unknown {
  const reader = new ByteReader(bytes);
  const value = reader.value();
  if (reader.offset !== bytes.length) throw new Error('canonical: trailing bytes');
  return value;
}

class ByteReader {
  offset = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private byte(): number {
    const b = this.buf[this.offset++];
    if (b === undefined) throw new Error('canonical: truncated');
    return b;
  }

  private varint(): number {
    let result = 0;
    let scale = 1;
    for (let k = 0; k < 8; k++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
    }
    throw new Error('canonical: varint too long');
  }

  private take(length: number): Uint8Array {
    if (this.offset + length > this.buf.length) throw new Error('canonical: truncated');
    const out = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  value(): unknown {
    const tag = this.byte();
    switch (tag) {
      case T_NULL:
        return null;
      case T_FALSE:
        return false;
      case T_TRUE:
        return true;
      case T_INT:
        return this.varint();
      case T_NEGINT:
        return -this.varint();
      case T_FLOAT: {
        const v = this.view.getFloat64(this.offset);
        this.take(8);
        return v;
      }
      case T_STRING:
        return utf8Decoder.decode(this.take(this.varint()));
      case T_BYTES:
        return this.take(this.varint()).slice();
      case T_ARRAY: {
        const length = this.varint();
        const out: unknown[] = [];
        for (let k = 0; k < length; k++) out.push(this.value());
        return out;
      }
      case T_OBJECT: {
        const count = this.varint();
        const out: Record<string, unknown> = {};
        for (let k = 0; k < count; k++) {
          const key = this.value();
          if (typeof key !== 'string') throw new Error('canonical: object key');
          out[key] = this.value();
        }
        return out;
      }
      default:
        throw new Error(`canonical: bad tag ${tag}`);
    }
  }
}

// ------------------------------------------------------------------------------ requests, batches

function writeOperation(w: ByteWriter, op: KvOperation): void {
  w.string(op.op);
  w.string(op.key);
  switch (op.op) {
    case 'put':
      return w.string(op.value);
    case 'cas':
      if (op.expected === null) w.nullish();
      else w.string(op.expected);
      return w.string(op.value);
    case 'delete':
    case 'get':
      return;
  }
}

export function writeRequest(w: ByteWriter, r: ClientRequest): void {
  w.string(r.clientId);
  w.int(r.seq);
  w.int(r.origin);
  writeOperation(w, r.operation);
}

function writeBatch(w: ByteWriter, batch: Batch): void {
  w.arrayHeader(batch.length);
  for (const r of batch) writeRequest(w, r);
}

export function encodeBatch(batch: Batch): Uint8Array {
  const w = new ByteWriter();
  writeBatch(w, batch);
  return w.finish();
}

/** d = D(m) for a batch (OSDI §4.2), hashed straight from the scratch buffer: same value as digest(encodeBatch(batch)). */
export function batchDigest(batch: Batch, digest: (bytes: Uint8Array) => string): string {
  return withBytes((w) => writeBatch(w, batch), digest);
}

/**
 * An upper bound of a request's size on the wire (msgpack: field names and headers, and at most
 * 3 UTF-8 bytes per UTF-16 unit), for what a ViewChange or NewView may carry.
 */
export function requestWireBytesMax(r: ClientRequest): number {
  const op = r.operation;
  const value = op.op === 'put' || op.op === 'cas' ? op.value.length + (op.op === 'cas' ? (op.expected?.length ?? 0) : 0) : 0;
  return 128 + 3 * (r.clientId.length + op.key.length + value);
}

/** An upper bound of a result's size on the wire (a get's value, a failed cas's current value). */
export function resultWireBytesMax(result: KvResult): number {
  const value = result.kind === 'get' ? result.value : result.kind === 'cas' && !result.ok ? result.current : null;
  return 64 + 3 * (value?.length ?? 0);
}

export function batchWireBytesMax(batch: Batch): number {
  let bytes = 64;
  for (const r of batch) bytes += requestWireBytesMax(r);
  return bytes;
}

/** Approximate wire size of a request, for maxBatchBytes. */
export function requestSize(r: ClientRequest): number {
  const op = r.operation;
  const value = op.op === 'put' || op.op === 'cas' ? op.value.length + (op.op === 'cas' ? (op.expected?.length ?? 0) : 0) : 0;
  return 24 + r.clientId.length + op.key.length + value;
}

/** Equal results from different replicas get equal keys (ReplyQuorum matching). */
export function canonicalResultKey(result: KvResult): string {
  switch (result.kind) {
    case 'put':
    case 'session-expired':
      return result.kind;
    case 'delete':
      return `delete:${result.existed ? 1 : 0}`;
    case 'get':
      return result.value === null ? 'get:null' : `get:=${result.value}`;
    case 'cas':
      if (result.ok) return 'cas:ok';
      return result.current === null ? 'cas:fail:null' : `cas:fail:=${result.current}`;
  }
}

function writeResult(w: ByteWriter, result: KvResult): void {
  w.string(canonicalResultKey(result));
}

// ------------------------------------------------------------------------------ messages

function writeCheckpoint(w: ByteWriter, c: Checkpoint, withAuth: boolean): void {
  w.string('Checkpoint');
  w.int(c.sequence);
  w.string(c.digest);
  w.int(c.replica);
  if (withAuth) w.bytes(c.auth);
}

function writeEntries(w: ByteWriter, entries: PreparedEntry[]): void {
  w.arrayHeader(entries.length);
  for (const e of entries) {
    w.int(e.sequence);
    w.string(e.digest);
    w.int(e.view);
  }
}

function writeViewChange(w: ByteWriter, m: ViewChange, withAuth: boolean): void {
  w.string('ViewChange');
  w.int(m.view);
  w.int(m.h);
  w.string(m.checkpointDigest);
  w.arrayHeader(m.checkpointProof.length);
  for (const c of m.checkpointProof) writeCheckpoint(w, c, true);
  writeEntries(w, m.prepared);
  writeEntries(w, m.prePrepared);
  w.int(m.replica);
  if (withAuth) w.bytes(m.auth);
}

/** The bytes a message's `auth` covers. Encode once per message; MAC per receiver. */
export function authenticatedBytes(m: PbftMessage): Uint8Array {
  const w = new ByteWriter();
  writeAuthenticated(w, m);
  return w.finish();
}

/** Runs `use` on a message's authenticated bytes without copying them (see withBytes). */
export function withAuthenticatedBytes<T>(m: PbftMessage, use: (bytes: Uint8Array) => T): T {
  return withBytes((w) => writeAuthenticated(w, m), use);
}

function writeAuthenticated(w: ByteWriter, m: PbftMessage): void {
  switch (m.type) {
    case 'Request':
    case 'ReadRequest':
      w.string(m.type);
      writeRequest(w, m.request);
      w.int(m.replica);
      break;
    case 'PrePrepare':
    case 'Prepare':
    case 'Commit':
      w.string(m.type);
      w.int(m.view);
      w.int(m.sequence);
      w.string(m.digest);
      w.int(m.replica);
      break;
    case 'Reply':
      // One authenticator for the whole batch's results (README Deviations: batched replies).
      w.string(m.type);
      w.int(m.view);
      w.arrayHeader(m.replies.length);
      for (const e of m.replies) {
        w.string(e.clientId);
        w.int(e.seq);
        writeResult(w, e.result);
      }
      w.int(m.replica);
      break;
    case 'ReadReply':
      w.string(m.type);
      w.int(0);
      w.string(m.clientId);
      w.int(m.seq);
      writeResult(w, m.result);
      w.int(m.replica);
      break;
    case 'Checkpoint':
      writeCheckpoint(w, m, false);
      break;
    case 'ViewChange':
      writeViewChange(w, m, false);
      break;
    case 'NewView':
      w.string(m.type);
      w.int(m.view);
      w.arrayHeader(m.viewChanges.length);
      for (const vc of m.viewChanges) writeViewChange(w, vc, true);
      w.int(m.h);
      writeSequenceDigests(w, m.chosen);
      w.int(m.replica);
      break;
    case 'Fetch':
      w.string(m.type);
      w.int(m.from);
      w.int(m.h);
      w.int(m.replica);
      break;
    case 'FetchReply':
      w.string(m.type);
      writeSequenceDigests(w, m.entries);
      if (m.stable === null) w.nullish();
      else {
        w.int(m.stable.sequence);
        w.string(m.stable.digest);
        w.arrayHeader(m.stable.proof.length);
        for (const c of m.stable.proof) writeCheckpoint(w, c, true);
      }
      w.int(m.replica);
      break;
    case 'FetchMeta':
      w.string(m.type);
      w.int(m.sequence);
      w.string(m.digest);
      w.arrayHeader(m.nodes.length);
      for (const node of m.nodes) {
        w.int(node.level);
        w.int(node.index);
      }
      w.int(m.replica);
      break;
    case 'Meta':
      // The proof's Checkpoints are signed; the MAC covers which checkpoint and the digests.
      w.string(m.type);
      w.int(m.sequence);
      w.string(m.digest);
      w.arrayHeader(m.nodes.length);
      for (const node of m.nodes) {
        w.int(node.level);
        w.int(node.index);
        writeValue(w, node.children);
      }
      w.int(m.replica);
      break;
    case 'FetchPartitions':
      w.string(m.type);
      w.int(m.sequence);
      w.string(m.digest);
      w.arrayHeader(m.parts.length);
      for (const part of m.parts) {
        w.int(part.partition);
        w.int(part.offset);
      }
      w.int(m.replica);
      break;
    case 'FetchBatches':
      w.string(m.type);
      writeSequenceDigests(w, m.wanted);
      w.int(m.replica);
      break;
    case 'Batches':
      // The batches verify themselves against their digests; the MAC covers which ones.
      w.string(m.type);
      writeSequenceDigests(w, m.entries);
      w.int(m.replica);
      break;
    case 'PartitionChunk':
      w.string(m.type);
      w.int(m.sequence);
      w.string(m.digest);
      w.int(m.partition);
      w.int(m.offset);
      w.int(m.total);
      w.bytes(m.bytes);
      w.int(m.replica);
      break;
  }
}

/** A list of (sequence number, digest) pairs: the O set's choices, fetched and wanted batches. */
function writeSequenceDigests(w: ByteWriter, list: ReadonlyArray<{ sequence: number; digest: string }>): void {
  w.arrayHeader(list.length);
  for (const e of list) {
    w.int(e.sequence);
    w.string(e.digest);
  }
}
