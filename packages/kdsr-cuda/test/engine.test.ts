// The engine itself: scopes and disposal, memory accounting, views, clear errors on misuse.
import { add, buildInfo, cpuIsa, dispose, keep, memory, scale, setCpuIsa, supportedCpuIsas, Tensor, tidy } from '../src/ts';

const live = () => memory('cpu').liveBuffers;

describe('tidy / keep / dispose', () => {
  test('tidy frees every tensor created inside it', () => {
    const before = live();
    const { liveBytes, numTensors } = memory('cpu');
    tidy(() => {
      const a = Tensor.fromArray([1, 2, 3], [3]);
      const b = scale(add(a, a), 2);
      expect(Array.from(b.toArray())).toEqual([4, 8, 12]);
      expect(live()).toBe(before + 3);
      expect(memory().numTensors).toBe(numTensors + 3);
    });
    expect(live()).toBe(before);
    expect(memory('cpu').liveBytes).toBe(liveBytes);
    expect(memory().numTensors).toBe(numTensors);
  });

  test('returned tensors survive, also inside arrays, plain objects and Maps', () => {
    const before = live();
    const result = tidy(() => {
      const a = Tensor.fromArray([1, 2], [2]);
      const b = add(a, a);
      const c = scale(a, 3);
      const d = scale(a, 4);
      scale(a, 5); // dropped
      return { b, list: [c], map: new Map([['d', d]]) };
    });
    expect(live()).toBe(before + 3);
    expect(Array.from(result.b.toArray())).toEqual([2, 4]);
    expect(Array.from(result.list[0].toArray())).toEqual([3, 6]);
    expect(Array.from(result.map.get('d')!.toArray())).toEqual([4, 8]);
    dispose(result);
    expect(live()).toBe(before);
  });

  test('a tensor returned from a nested tidy belongs to the enclosing scope', () => {
    const before = live();
    tidy(() => {
      const inner = tidy(() => scale(Tensor.fromArray([1], [1]), 2));
      expect(inner.disposed).toBe(false);
      expect(live()).toBe(before + 1);
    });
    expect(live()).toBe(before);
  });

  test('keep() exempts a tensor from every enclosing scope', () => {
    const before = live();
    let kept: Tensor | undefined;
    tidy(() => {
      tidy(() => {
        kept = keep(Tensor.fromArray([7], [1]));
        Tensor.fromArray([8], [1]);
      });
    });
    expect(kept!.disposed).toBe(false);
    expect(Array.from(kept!.toArray())).toEqual([7]);
    expect(live()).toBe(before + 1);
    kept!.dispose();
    expect(live()).toBe(before);
  });

  test('an error inside tidy still frees the scope and propagates', () => {
    const before = live();
    expect(() =>
      tidy(() => {
        Tensor.fromArray([1, 2, 3], [3]);
        add(Tensor.fromArray([1], [1]), Tensor.fromArray([1, 2], [2])); // throws
      }),
    ).toThrow('Error in add: a [1] and b [2] must have the same shape');
    expect(live()).toBe(before);
  });

  test('tidy refuses an async function (and frees what it made)', () => {
    const before = live();
    expect(() => tidy(() => Promise.resolve(Tensor.fromArray([1], [1])))).toThrow('tidy(fn): fn must be synchronous');
    expect(live()).toBe(before);
  });
});

describe('tensor lifetime', () => {
  test('dispose twice is safe and reading a disposed tensor throws a clear error', () => {
    const before = live();
    const t = Tensor.fromArray([1, 2, 3], [3]);
    expect(live()).toBe(before + 1);
    t.dispose();
    t.dispose();
    expect(t.disposed).toBe(true);
    expect(live()).toBe(before);
    expect(() => t.toArray()).toThrow('tensor [3] has been disposed');
    expect(() => t.reshape([1, 3])).toThrow('tensor [3] has been disposed');
    expect(() => tidy(() => add(t, Tensor.fromArray([1, 2, 3], [3])))).toThrow('tensor [3] has been disposed');
    expect(String(t)).toBe('Tensor([3], float32, cpu, disposed)');
  });

  test('reshape is a view sharing memory with its source', () => {
    tidy(() => {
      const before = live();
      const tensorsBefore = memory().numTensors;
      const t = Tensor.fromArray(new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3]);
      const v = t.reshape([3, 2]);
      expect(v.shape).toEqual([3, 2]);
      expect(live()).toBe(before + 1); // no new buffer, but a second tensor
      expect(memory().numTensors).toBe(tensorsBefore + 2);
      t.write(new Float64Array([6, 5, 4, 3, 2, 1]));
      expect(Array.from(v.toArray())).toEqual([6, 5, 4, 3, 2, 1]);
      t.dispose(); // the view keeps the memory alive
      expect(live()).toBe(before + 1);
      expect(Array.from(v.toArray())).toEqual([6, 5, 4, 3, 2, 1]);
      v.dispose();
      expect(live()).toBe(before);
      expect(() => Tensor.fromArray([1, 2, 3], [3]).reshape([2, 2])).toThrow('Error in reshape: cannot view [3] (3 elements) as [2,2]');
    });
  });

  test('copies (to, cast) do not share memory', () => {
    tidy(() => {
      const t = Tensor.fromArray([1, 2], [2]);
      const c = t.to('cpu');
      const d = t.cast('float64');
      t.write(new Float32Array([9, 9]));
      expect(Array.from(c.toArray())).toEqual([1, 2]);
      expect(d.dtype).toBe('float64');
      expect(Array.from(d.toArray())).toEqual([1, 2]);
    });
  });

  test('memory statistics count bytes', () => {
    tidy(() => {
      const before = memory('cpu');
      Tensor.fromArray(new Float64Array(10), [10]);
      Tensor.fromArray(new Float32Array(6), [2, 3]);
      const after = memory('cpu');
      expect(after.liveBuffers - before.liveBuffers).toBe(2);
      expect(after.liveBytes - before.liveBytes).toBe(80 + 24);
      expect(after.peakBytes).toBeGreaterThanOrEqual(after.liveBytes);
    });
  });
});

describe('clear errors on misuse', () => {
  test('bad data, shapes and devices', () => {
    expect(() => Tensor.fromArray([1, 2, 3], [2, 2])).toThrow('fromArray(): shape [2,2] needs 4 elements, the array has 3');
    expect(() => Tensor.fromArray([1], [-1])).toThrow('fromArray(): shape must be an array of non-negative integers');
    expect(() => Tensor.fromArray([1], [1], { device: 'gpu' })).toThrow("unknown device 'gpu' (expected 'cpu' or 'cuda:N')");
    tidy(() => {
      const t = Tensor.fromArray([1, 2], [2]);
      expect(() => t.write(new Float64Array(2))).toThrow('write(): a float32 tensor needs a Float32Array');
      expect(() => t.write(new Float32Array(3))).toThrow('write(): array has 3 elements, tensor [2] has 2');
    });
  });

  test('a CUDA device without the CUDA backend is refused with the reason', () => {
    const { cuda } = buildInfo();
    if (cuda?.loaded) return; // covered by test/cuda-backend.test.ts and test/cuda-module.test.ts
    const reason = cuda ? `the CUDA backend did not load: ${cuda.error}` : 'this build of @kdsr/cuda was compiled without the CUDA backend';
    tidy(() => {
      expect(() => Tensor.fromArray([1], [1]).to('cuda:0')).toThrow(`device 'cuda:0' is not available: ${reason}`);
    });
  });

  test('setCpuIsa takes the instruction sets this CPU has and refuses others by name', () => {
    const initial = cpuIsa();
    const supported = supportedCpuIsas();
    expect(supported[0]).toBe('baseline');
    expect(supported).toContain(initial);
    try {
      for (const isa of supported) {
        setCpuIsa(isa);
        expect(cpuIsa()).toBe(isa);
      }
      expect(() => setCpuIsa('avx10' as never)).toThrow("setCpuIsa(): unknown instruction set 'avx10'; expected 'avx512', 'avx2' or 'baseline'");
      for (const isa of (['avx2', 'avx512'] as const).filter((i) => !supported.includes(i)))
        expect(() => setCpuIsa(isa)).toThrow(`setCpuIsa('${isa}'): this CPU supports up to`);
    } finally {
      setCpuIsa(initial);
    }
  });
});
