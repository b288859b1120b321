/**
 * Reads the `history.edn` of a Jepsen register or cas-register test into §6 events, so that the
 * checker can be run on Jepsen's histories (and compared with Knossos on them).
 *
 * Each operation is a map with `:type` (:invoke :ok :fail :info), `:f` (:read :write :cas),
 * `:value`, `:process`, `:time` and `:index`; a file holds one map per line or one vector of
 * them. A single-register test becomes key "register"; in the independent (keyed) variant each
 * value is a tuple `[key value]`. Values (Jepsen uses integers) become strings. Operations of the
 * `:nemesis` (any non-integer process) are returned apart.
 */
import { EdnError, EdnSet, EdnSymbol, Keyword, readEdnAll } from './edn.js';
import type { EdnMap, EdnValue } from './edn.js';
import { HistoryError, toHistoryEvent } from './history.js';
import type { HistoryEvent, NemesisEvent, ParsedHistory } from './history.js';

/** The key given to the register of a single-register (non-independent) test. */
export const SINGLE_REGISTER_KEY = 'register';

const K = {
  type: Keyword.of('type'),
  f: Keyword.of('f'),
  value: Keyword.of('value'),
  process: Keyword.of('process'),
  time: Keyword.of('time'),
  index: Keyword.of('index'),
} as const;

const JEPSEN_FS: ReadonlySet<string> = new Set(['read', 'write', 'cas', 'delete']);

export function parseJepsenEdn(text: string): ParsedHistory {
  const ops = readOperations(text);
  const keyed = ops.some(({ map }) => looksKeyed(map));
  const events: HistoryEvent[] = [];
  const nemesis: NemesisEvent[] = [];
  ops.forEach(({ map }, i) => {
    const index = map.get(K.index);
    const where = `operation ${i + 1}${typeof index === 'number' ? ` (:index ${index})` : ''}`;
    const process = map.get(K.process);
    if (typeof process !== 'number') {
      nemesis.push(ednToJson(map) as NemesisEvent);
      return;
    }
    const f = keywordName(map.get(K.f));
    if (typeof f !== 'string' || !JEPSEN_FS.has(f)) {
      throw new HistoryError(`${where}: :f ${String(f)} is not a register operation (:read, :write, :cas)`);
    }
    const type = keywordName(map.get(K.type));
    const [key, value] = splitKey(map.get(K.value) ?? null, keyed, where);
    const time = map.get(K.time);
    events.push(
      toHistoryEvent(
        {
          process,
          type,
          f,
          key,
          // A read that did not complete observed nothing; whatever it carries is not a value.
          value: f === 'read' && type !== 'ok' ? null : toValue(value, where),
          // Without :time, the position in the file orders the events.
          time: typeof time === 'number' ? time : typeof time === 'bigint' ? Number(time) : i,
        },
        where,
      ),
    );
  });
  return { events, nemesis };
}

function readOperations(text: string): Array<{ map: EdnMap }> {
  let forms: EdnValue[];
  try {
    forms = readEdnAll(text);
  } catch (err) {
    if (err instanceof EdnError) throw new HistoryError(err.message);
    throw err;
  }
  const only = forms[0];
  const items = forms.length === 1 && Array.isArray(only) ? only : forms;
  return items.map((item, i) => {
    if (!(item instanceof Map)) throw new HistoryError(`operation ${i + 1}: expected a map, got ${describe(item)}`);
    return { map: item };
  });
}

/**
 * An independent history wraps every value in `[key value]`: a read's or write's value is then a
 * vector, and a cas's is `[key [old new]]` (a plain cas is `[old new]`).
 */
function looksKeyed(map: EdnMap): boolean {
  if (typeof map.get(K.process) !== 'number') return false;
  const f = keywordName(map.get(K.f));
  const value = map.get(K.value);
  if (!Array.isArray(value)) return false;
  return f === 'cas' ? Array.isArray(value[1]) : f === 'read' || f === 'write';
}

function splitKey(value: EdnValue, keyed: boolean, where: string): [string, EdnValue] {
  if (!keyed) return [SINGLE_REGISTER_KEY, value];
  if (!Array.isArray(value) || value.length !== 2) {
    throw new HistoryError(`${where}: expected a [key value] tuple, got ${describe(value)}`);
  }
  return [scalar(value[0] ?? null, where) ?? 'nil', value[1] ?? null];
}

/** Register values become strings; a cas `[old new]` becomes `[old, new]`. */
function toValue(value: EdnValue, where: string): unknown {
  if (Array.isArray(value)) return value.map((v) => scalar(v, where));
  return scalar(value, where);
}

function scalar(value: EdnValue, where: string): string | null {
  if (value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Keyword || value instanceof EdnSymbol) return value.name;
  throw new HistoryError(`${where}: expected a register value, got ${describe(value)}`);
}

function keywordName(value: EdnValue | undefined): unknown {
  return value instanceof Keyword ? value.name : value;
}

function describe(value: EdnValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a vector';
  if (value instanceof Map) return 'a map';
  return JSON.stringify(ednToJson(value)) ?? String(value);
}

/** EDN as plain JSON-able data: keywords and symbols become their names, maps objects. */
export function ednToJson(value: EdnValue): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return value;
  }
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Keyword || value instanceof EdnSymbol) return value.name;
  if (value instanceof EdnSet) return value.items.map(ednToJson);
  if (Array.isArray(value)) return value.map(ednToJson);
  const out: Record<string, unknown> = {};
  for (const [k, v] of value) out[String(ednToJson(k))] = ednToJson(v);
  return out;
}
