// Reads official PyTorch checkpoints (.pt / .pth written by torch.save since 1.6: a zip holding
// <name>/data.pkl and one raw little-endian storage per <name>/data/<key>) without Python, and
// picks the weights out of the layouts KDSR's code bases save.
import * as fs from 'fs';
import { bfloat16ToFloat, halfToFloat } from '@kdsr/cuda';
import { PickleGlobal, unpickle } from './pickle';
import { ZipArchive } from './zip';

/** A tensor read from a checkpoint, converted to contiguous float32 on the host. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
  /** The storage type it was saved with, e.g. 'FloatStorage', 'HalfStorage'. */
  storageType: string;
}

interface StorageRef {
  storageType: string;
  key: string;
  numel: number;
}

class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

const ELEMENT_BYTES: Record<string, number> = { FloatStorage: 4, HalfStorage: 2, BFloat16Storage: 2, DoubleStorage: 8 };

function decodeStorage(bytes: Buffer, storage: StorageRef, bigEndian: boolean, source: string): Float32Array {
  const size = ELEMENT_BYTES[storage.storageType];
  if (size === undefined) throw new Error(`${source}: storage '${storage.key}' is a ${storage.storageType}; only Float, Half, BFloat16 and Double storages hold weights`);
  if (bytes.length < storage.numel * size) throw new Error(`${source}: storage '${storage.key}' has ${bytes.length} bytes, expected ${storage.numel * size}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = !bigEndian;
  const out = new Float32Array(storage.numel);
  for (let i = 0; i < storage.numel; i++) {
    switch (storage.storageType) {
      case 'FloatStorage': out[i] = view.getFloat32(4 * i, little); break;
      case 'DoubleStorage': out[i] = view.getFloat64(8 * i, little); break;
      case 'HalfStorage': out[i] = halfToFloat(view.getUint16(2 * i, little)); break;
      default: out[i] = bfloat16ToFloat(view.getUint16(2 * i, little)); // BFloat16Storage
    }
  }
  return out;
}

/** Gathers a (possibly strided) view of a storage into a contiguous array. */
function gather(storage: Float32Array, ref: TensorRef, name: string, source: string): Float32Array {
  const count = ref.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  const index = new Array<number>(ref.shape.length).fill(0);
  for (let i = 0; i < count; i++) {
    let at = ref.offset;
    for (let d = 0; d < index.length; d++) at += index[d] * ref.stride[d];
    if (at >= storage.length) throw new Error(`${source}: tensor '${name}' reads past its storage`);
    out[i] = storage[at];
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d] < ref.shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

/** The object a torch.save zip file holds, with every tensor converted to a HostTensor. */
export function readTorchFile(buffer: Buffer, source = 'checkpoint'): unknown {
  if (buffer.length >= 2 && buffer[0] === 0x80) throw new Error(`${source}: this is the legacy (pre-1.6) torch.save format; re-save it with a current PyTorch (torch.save(torch.load(f), f))`);
  if (buffer.length < 4 || buffer.readUInt32LE(0) !== 0x04034b50) throw new Error(`${source}: not a PyTorch checkpoint (expected a zip archive from torch.save)`);
  const zip = new ZipArchive(buffer, source);
  const pickleName = [...zip.entries.keys()].find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pickleName) throw new Error(`${source}: no data.pkl inside; not a torch.save archive`);
  const root = pickleName.slice(0, pickleName.length - 'data.pkl'.length);
  const byteorderName = `${root}byteorder`;
  const bigEndian = zip.entries.has(byteorderName) && zip.read(byteorderName).toString('utf8').trim() === 'big';

  const object = unpickle(zip.read(pickleName), {
    source: `${source}: ${pickleName}`,
    persistentLoad: (pid) => {
      // ('storage', storage_type, key, location, numel)
      if (!Array.isArray(pid) || pid[0] !== 'storage' || !(pid[1] instanceof PickleGlobal)) throw new Error(`${source}: unexpected persistent id ${JSON.stringify(pid)}`);
      return { storageType: pid[1].name, key: String(pid[2]), numel: Number(pid[4]) } satisfies StorageRef;
    },
    call: (global, args) => {
      switch (global.qualifiedName) {
        case 'collections.OrderedDict':
          return new Map(Array.isArray(args[0]) ? (args[0] as Array<[unknown, unknown]>) : []);
        case 'torch._utils._rebuild_tensor_v2':
        case 'torch._utils._rebuild_tensor': {
          const [storage, offset, shape, stride] = args as [StorageRef, number, number[], number[]];
          return new TensorRef(storage, offset, shape.map(Number), stride.map(Number));
        }
        case 'torch._utils._rebuild_parameter':
        case 'torch._utils._rebuild_parameter_with_state':
          return args[0]; // an nn.Parameter: its data tensor
        default:
          return undefined;
      }
    },
  });

  const storages = new Map<string, Float32Array>();
  const convert = (value: unknown, name: string): unknown => {
    if (value instanceof TensorRef) {
      const key = value.storage.key;
      let storage = storages.get(key);
      if (!storage) {
        storage = decodeStorage(zip.read(`${root}data/${key}`), value.storage, bigEndian, source);
        storages.set(key, storage);
      }
      return { shape: value.shape, data: gather(storage, value, name, source), storageType: value.storage.storageType } satisfies HostTensor;
    }
    if (value instanceof Map) return new Map([...value.entries()].map(([k, v]) => [k, convert(v, `${name}${name ? '.' : ''}${String(k)}`)]));
    if (Array.isArray(value)) return value.map((v, i) => convert(v, `${name}[${i}]`));
    return value;
  };
  return convert(object, '');
}

function isHostTensor(v: unknown): v is HostTensor {
  return typeof v === 'object' && v !== null && (v as HostTensor).data instanceof Float32Array && Array.isArray((v as HostTensor).shape);
}

function isStateDict(v: unknown): v is Map<string, HostTensor> {
  return v instanceof Map && v.size > 0 && [...v.values()].every(isHostTensor);
}

/** Which entry of a checkpoint holds the weights, and with which key prefix removed. */
export interface StateDictChoice {
  /** 'params_ema', 'params', 'state_dict' or '' for a bare state dict. */
  entry: string;
  strippedPrefix: string;
}

/**
 * The weights of a checkpoint as a state dict with the original key names. Layouts: a bare state
 * dict (the classic KDSR code), BasicSR's {'params', 'params_ema'} (params_ema preferred, as the
 * released models are evaluated with it), {'state_dict': ...}; DataParallel's 'module.' prefixes
 * are removed.
 */
export function torchStateDict(buffer: Buffer, source = 'checkpoint'): { tensors: Map<string, HostTensor>; choice: StateDictChoice } {
  const object = readTorchFile(buffer, source);
  let dict: unknown = object;
  let entry = '';
  if (object instanceof Map && !isStateDict(object)) {
    entry = ['params_ema', 'params', 'state_dict'].find((k) => isStateDict(object.get(k))) ?? '';
    if (!entry) {
      const keys = [...object.keys()].map(String).join(', ');
      throw new Error(`${source}: no state dict found (top-level keys: ${keys}); expected tensors, or one of params_ema / params / state_dict`);
    }
    dict = object.get(entry);
  }
  if (!isStateDict(dict)) throw new Error(`${source}: the checkpoint does not hold a state dict of tensors`);
  const tensors = new Map<string, HostTensor>();
  const keys = [...dict.keys()];
  const strippedPrefix = keys.every((k) => k.startsWith('module.')) ? 'module.' : '';
  for (const [k, v] of dict) tensors.set(k.slice(strippedPrefix.length), v);
  return { tensors, choice: { entry, strippedPrefix } };
}

export function readTorchStateDict(file: string): { tensors: Map<string, HostTensor>; choice: StateDictChoice } {
  return torchStateDict(fs.readFileSync(file), file);
}
