import type { Logger } from 'pino';
import { Packr } from 'msgpackr';
import { slabCopy } from './command-slab.js';
import type { KvCommand, KvResult } from '../protocols/kv/commands.js';
import type { KvSnapshot, KvStateMachine } from '../protocols/kv/state-machine.js';

const codec = new Packr({ useRecords: false });

/**
 * The bytes a protocol core replicates for one client command (opaque to every core). A copy:
 * msgpackr hands out views into a shared buffer of many kilobytes, and a log entry that kept such
 * a view would keep the whole buffer alive until the entry is compacted (measured: 36 MB of
 * buffers for 9 MB of commands in a leader's log). The copy goes into a slab (command-slab.ts).
 */
export function encodeCommand(command: KvCommand): Uint8Array {
  return slabCopy(codec.pack(command));
}

/**
 * Decode and apply one replicated command. Every replica decodes the same bytes, so an
 * undecodable command is skipped identically everywhere and the state machines stay equal.
 */
export function applyEncodedCommand(sm: KvStateMachine, data: Uint8Array, logger: Logger): KvResult | null {
  try {
    return sm.apply(codec.unpack(transientView(data)) as KvCommand);
  } catch (err) {
    logger.error({ err }, 'skipped an undecodable replicated command');
    return null;
  }
}

/**
 * A short-lived Buffer over the same bytes. msgpackr caches a DataView on the buffer it decodes
 * (`source.dataView`): decoding a log entry's own bytes left a DataView and a property array on
 * every entry until it was compacted, 120 B each (found in a heap snapshot of a leader holding
 * 50,000 entries). A Buffer, not a bare Uint8Array, keeps msgpackr's fast string path.
 */
function transientView(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** A state-machine snapshot as bytes (Raft §7 snapshots, Multi-Paxos catch-up). */
export function encodeSnapshot(snapshot: KvSnapshot): Uint8Array {
  return codec.pack(snapshot);
}

export function decodeSnapshot(data: Uint8Array): KvSnapshot {
  return codec.unpack(data) as KvSnapshot;
}
