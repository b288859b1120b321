import type { Logger } from 'pino';
import { Packr } from 'msgpackr';
import type { KvCommand, KvResult } from '../protocols/kv/commands.js';
import type { KvSnapshot, KvStateMachine } from '../protocols/kv/state-machine.js';

const codec = new Packr({ useRecords: false });

/**
 * The bytes a protocol core replicates for one client command (opaque to every core). A copy of
 * exactly its size: msgpackr hands out views into a shared buffer of many kilobytes, and a log
 * entry that kept such a view would keep the whole buffer alive until the entry is compacted
 * (measured: 36 MB of buffers for 9 MB of commands in a leader's log).
 */
export function encodeCommand(command: KvCommand): Uint8Array {
  return new Uint8Array(codec.pack(command));
}

/**
 * Decode and apply one replicated command. Every replica decodes the same bytes, so an
 * undecodable command is skipped identically everywhere and the state machines stay equal.
 */
export function applyEncodedCommand(sm: KvStateMachine, data: Uint8Array, logger: Logger): KvResult | null {
  try {
    return sm.apply(codec.unpack(data) as KvCommand);
  } catch (err) {
    logger.error({ err }, 'skipped an undecodable replicated command');
    return null;
  }
}

/** A state-machine snapshot as bytes (Raft §7 snapshots, Multi-Paxos catch-up). */
export function encodeSnapshot(snapshot: KvSnapshot): Uint8Array {
  return codec.pack(snapshot);
}

export function decodeSnapshot(data: Uint8Array): KvSnapshot {
  return codec.unpack(data) as KvSnapshot;
}
