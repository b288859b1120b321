/**
 * A small EDN reader (https://github.com/edn-format/edn), enough for Jepsen's `history.edn`:
 * maps, vectors, lists, sets, nil, booleans, integers, floats, strings, characters, keywords and
 * symbols, comments and `#_` discards. A tagged element (`#jepsen.history.Op{...}`,
 * `#inst "..."`) reads as the element without its tag.
 */

export class Keyword {
  private static readonly interned = new Map<string, Keyword>();
  private constructor(readonly name: string) {}

  /** Keywords are interned, so they work as `Map` keys and compare with `===`. */
  static of(name: string): Keyword {
    let keyword = Keyword.interned.get(name);
    if (keyword === undefined) Keyword.interned.set(name, (keyword = new Keyword(name)));
    return keyword;
  }

  toString(): string {
    return `:${this.name}`;
  }
}

export class EdnSymbol {
  constructor(readonly name: string) {}
}

export class EdnSet {
  constructor(readonly items: EdnValue[]) {}
}

/** Vectors and lists both read as arrays. */
export type EdnValue = null | boolean | number | bigint | string | Keyword | EdnSymbol | EdnSet | EdnValue[] | EdnMap;

export interface EdnMap extends Map<EdnValue, EdnValue> {}

export class EdnError extends Error {
  override name = 'EdnError';
}

const DELIMITERS = new Set(['{', '}', '[', ']', '(', ')', '"', ';']);
const NAMED_CHARS: Readonly<Record<string, string>> = { newline: '\n', return: '\r', space: ' ', tab: '\t' };
const STRING_ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', b: '\b', f: '\f' };

/** Reads every top-level element of `text`. */
export function readEdnAll(text: string): EdnValue[] {
  const reader = new EdnReader(text);
  const values: EdnValue[] = [];
  for (;;) {
    const value = reader.read();
    if (value === END) return values;
    values.push(value);
  }
}

const END = Symbol('end');
const CLOSE = Symbol('close');

class EdnReader {
  private pos = 0;
  constructor(private readonly text: string) {}

  /** The next element, or END at the end of the text. */
  read(): EdnValue | typeof END {
    const value = this.readElement();
    if (value === CLOSE) this.fail(`unexpected ${this.text[this.pos - 1]}`);
    return value;
  }

  private readElement(): EdnValue | typeof END | typeof CLOSE {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === undefined) return END;
    switch (c) {
      case '{':
        this.pos++;
        return this.readMap();
      case '[':
      case '(':
        this.pos++;
        return this.readSequence();
      case '}':
      case ']':
      case ')':
        this.pos++;
        return CLOSE;
      case '"':
        this.pos++;
        return this.readString();
      case '#':
        return this.readDispatch();
      case '\\':
        return this.readChar();
      default:
        return this.readToken();
    }
  }

  private readNested(): EdnValue | typeof CLOSE {
    const value = this.readElement();
    if (value === END) this.fail('unexpected end of input');
    return value;
  }

  private readSequence(): EdnValue[] {
    const items: EdnValue[] = [];
    for (;;) {
      const value = this.readNested();
      if (value === CLOSE) return items;
      items.push(value);
    }
  }

  private readMap(): EdnMap {
    const map: EdnMap = new Map();
    for (;;) {
      const key = this.readNested();
      if (key === CLOSE) return map;
      const value = this.readNested();
      if (value === CLOSE) this.fail('a map needs an even number of forms');
      map.set(key, value);
    }
  }

  private readDispatch(): EdnValue | typeof END | typeof CLOSE {
    const next = this.text[this.pos + 1];
    if (next === '{') {
      this.pos += 2;
      return new EdnSet(this.readSequence());
    }
    if (next === '_') {
      this.pos += 2;
      this.readNested();
      return this.readElement();
    }
    // A tag: `#name` followed by the element it tags. The tag is dropped.
    this.pos++;
    this.readTokenText();
    return this.readNested();
  }

  private readString(): string {
    let out = '';
    for (;;) {
      const c = this.text[this.pos++];
      if (c === undefined) this.fail('unterminated string');
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.text[this.pos++];
      if (e === 'u') {
        out += String.fromCharCode(parseInt(this.text.slice(this.pos, this.pos + 4), 16));
        this.pos += 4;
      } else if (e !== undefined && STRING_ESCAPES[e] !== undefined) {
        out += STRING_ESCAPES[e];
      } else {
        this.fail(`bad escape \\${e ?? ''}`);
      }
    }
  }

  private readChar(): string {
    this.pos++;
    const first = this.text[this.pos++] ?? this.fail('unexpected end of input');
    const rest = this.readTokenText();
    const name = first + rest;
    if (name.length === 1) return name;
    if (NAMED_CHARS[name] !== undefined) return NAMED_CHARS[name];
    if (first === 'u' && /^[0-9a-fA-F]{4}$/.test(rest)) return String.fromCharCode(parseInt(rest, 16));
    return this.fail(`unknown character \\${name}`);
  }

  private readToken(): EdnValue {
    const token = this.readTokenText();
    if (token === '') this.fail(`unexpected ${this.text[this.pos]}`);
    if (token === 'nil') return null;
    if (token === 'true') return true;
    if (token === 'false') return false;
    if (token.startsWith(':')) return Keyword.of(token.slice(1));
    if (/^[+-]?\d+N?$/.test(token)) return parseInteger(token.replace(/N$/, ''));
    if (/^[+-]?\d+(\.\d*)?([eE][+-]?\d+)?M?$/.test(token)) return Number(token.replace(/M$/, ''));
    if (/^[+-]?\d+\/\d+$/.test(token)) {
      const [num, den] = token.split('/');
      return Number(num) / Number(den);
    }
    return new EdnSymbol(token);
  }

  private readTokenText(): string {
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos]!;
      if (isSpace(c) || DELIMITERS.has(c)) break;
      this.pos++;
    }
    return this.text.slice(start, this.pos);
  }

  private skipSpace(): void {
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined) return;
      if (c === ';') {
        while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.pos++;
      } else if (isSpace(c)) {
        this.pos++;
      } else {
        return;
      }
    }
  }

  private fail(message: string): never {
    const before = this.text.slice(0, this.pos);
    const line = before.split('\n').length;
    const column = this.pos - before.lastIndexOf('\n');
    throw new EdnError(`EDN line ${line}, column ${column}: ${message}`);
  }
}

function isSpace(c: string): boolean {
  return c === ' ' || c === ',' || c === '\n' || c === '\r' || c === '\t' || c === '\f';
}

function parseInteger(digits: string): number | bigint {
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : BigInt(digits);
}
