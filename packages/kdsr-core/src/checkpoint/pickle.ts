// A minimal Python pickle reader (protocols 2 to 4) for the subset torch.save writes: dicts and
// OrderedDicts, tuples, lists, strings, numbers, globals called through REDUCE, and persistent ids
// for tensor storages. It never executes anything: globals are resolved by the caller's table, and
// unknown ones become inert PickleObject records.

/** A class or function named by GLOBAL / STACK_GLOBAL. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** The result of calling a global the caller did not resolve (kept so that errors can name it). */
export class PickleObject {
  state: unknown = undefined;

  constructor(
    readonly global: PickleGlobal,
    readonly args: unknown[],
  ) {}
}

export interface UnpickleOptions {
  /** Called for REDUCE / NEWOBJ on a global; return undefined to keep an inert PickleObject. */
  call?: (global: PickleGlobal, args: unknown[]) => unknown;
  /** Resolves BINPERSID ids (torch: storage tuples). */
  persistentLoad?: (pid: unknown) => unknown;
  source?: string;
}

export function unpickle(data: Uint8Array, options: UnpickleOptions = {}): unknown {
  const source = options.source ?? 'pickle';
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const text = new TextDecoder('utf-8');
  const latin1 = new TextDecoder('latin1');
  let pos = 0;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();

  const fail = (message: string): never => {
    throw new Error(`${source}: ${message} (at byte ${pos})`);
  };
  const need = (n: number) => {
    if (pos + n > data.length) fail('truncated pickle');
  };
  const u8 = () => (need(1), data[pos++]);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('length beyond 2^53');
    return Number(v);
  };
  const bytes = (n: number) => (need(n), (pos += n), data.subarray(pos - n, pos));
  const line = () => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated text field');
    const s = latin1.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = () => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) fail('stack underflow');
    return stack.pop();
  };
  const top = () => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const at = marks.pop();
    if (at === undefined) return fail('MARK expected');
    return stack.splice(at);
  };
  const littleEndianInt = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const call = (callee: unknown, args: unknown[]): unknown => {
    if (!(callee instanceof PickleGlobal)) return fail(`cannot call ${String(callee)}`);
    const result = options.call?.(callee, args);
    return result === undefined ? new PickleObject(callee, args) : result;
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) return fail('SETITEM(S) on something that is not a dict');
    for (let i = 0; i + 1 < items.length; i += 2) target.set(items[i], items[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]) => {
    if (!Array.isArray(target)) return fail('APPEND(S) on something that is not a list');
    target.push(...items);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: u64(); break; // FRAME: framing is transparent for an in-memory reader
      case 0x2e: return pop(); // STOP
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(littleEndianInt(bytes(u8()))); break; // LONG1
      case 0x8b: stack.push(littleEndianInt(bytes(u32()))); break; // LONG4
      case 0x49: { // INT (text; also 00/01 for booleans)
        const s = line();
        stack.push(s === '00' ? false : s === '01' ? true : Number.parseInt(s, 10));
        break;
      }
      case 0x4c: stack.push(Number.parseInt(line().replace(/L$/, ''), 10)); break; // LONG (text)
      case 0x47: need(8); stack.push(view.getFloat64(pos, false)); pos += 8; break; // BINFLOAT (big-endian)
      case 0x46: stack.push(Number.parseFloat(line())); break; // FLOAT (text)
      case 0x58: stack.push(text.decode(bytes(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(text.decode(bytes(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(text.decode(bytes(u64()))); break; // BINUNICODE8
      case 0x54: stack.push(latin1.decode(bytes(u32()))); break; // BINSTRING
      case 0x55: stack.push(latin1.decode(bytes(u8()))); break; // SHORT_BINSTRING
      case 0x42: stack.push(Uint8Array.from(bytes(u32()))); break; // BINBYTES
      case 0x43: stack.push(Uint8Array.from(bytes(u8()))); break; // SHORT_BINBYTES
      case 0x8e: stack.push(Uint8Array.from(bytes(u64()))); break; // BINBYTES8
      case 0x96: stack.push(Uint8Array.from(bytes(u64()))); break; // BYTEARRAY8
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x61: { const v = pop(); appendItems(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); appendItems(top(), items); break; } // APPENDS
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x64: { const m = new Map(); setItems(m, popMark()); stack.push(m); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x8f: stack.push(new Set()); break; // EMPTY_SET
      case 0x90: { const items = popMark(); const s = top(); if (!(s instanceof Set)) fail('ADDITEMS on a non-set'); for (const i of items) (s as Set<unknown>).add(i); break; }
      case 0x91: stack.push(new Set(popMark())); break; // FROZENSET
      case 0x63: { const module = line(); const name = line(); stack.push(new PickleGlobal(module, name)); break; } // GLOBAL
      case 0x93: { const name = pop(); const module = pop(); stack.push(new PickleGlobal(String(module), String(name))); break; } // STACK_GLOBAL
      case 0x52: { const args = pop(); const callee = pop(); stack.push(call(callee, Array.isArray(args) ? args : [args])); break; } // REDUCE
      case 0x81: { const args = pop(); const cls = pop(); stack.push(call(cls, Array.isArray(args) ? args : [args])); break; } // NEWOBJ
      case 0x92: { pop(); const args = pop(); const cls = pop(); stack.push(call(cls, Array.isArray(args) ? args : [args])); break; } // NEWOBJ_EX
      case 0x62: { // BUILD: set state; dicts (OrderedDict with _metadata) keep their items and ignore it
        const state = pop();
        const target = top();
        if (target instanceof PickleObject) target.state = state;
        break;
      }
      case 0x51: stack.push(options.persistentLoad ? options.persistentLoad(pop()) : fail('persistent id without a loader')); break; // BINPERSID
      case 0x50: stack.push(options.persistentLoad ? options.persistentLoad(line()) : fail('persistent id without a loader')); break; // PERSID
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x70: memo.set(Number.parseInt(line(), 10), top()); break; // PUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: case 0x67: { // BINGET, LONG_BINGET, GET
        const key = op === 0x68 ? u8() : op === 0x6a ? u32() : Number.parseInt(line(), 10);
        if (!memo.has(key)) fail(`memo key ${key} not found`);
        stack.push(memo.get(key));
        break;
      }
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}
