// The op table, the native registry and the TS wrappers must agree (style: PyTorch's
// native_functions.yaml / tfjs kernel_names.ts — one list that everything follows).
import * as api from '../src/ts';
import { buildInfo, native, opTable } from '../src/ts';

const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

describe('op-table.json', () => {
  const table = opTable();
  const kernels = native().listKernels();
  const compiled = buildInfo().backends;

  test('every native kernel is declared, with its backend listed', () => {
    for (const k of kernels) {
      expect({ op: k.op, declared: k.op in table }).toEqual({ op: k.op, declared: true });
      expect({ op: k.op, backend: k.backend, listed: table[k.op].backends.includes(k.backend) }).toEqual({ op: k.op, backend: k.backend, listed: true });
    }
  });

  test('every declared op has a kernel on each listed backend that this build compiled', () => {
    for (const [op, spec] of Object.entries(table)) {
      for (const backend of spec.backends) {
        if (!compiled.includes(backend)) continue;
        expect({ op, backend, registered: kernels.some((k) => k.op === op && k.backend === backend) }).toEqual({ op, backend, registered: true });
      }
    }
  });

  test('every declared op has a TS wrapper named in camelCase', () => {
    for (const op of Object.keys(table)) {
      expect({ op, wrapper: typeof (api as Record<string, unknown>)[camel(op)] }).toEqual({ op, wrapper: 'function' });
    }
  });

  test('gradient rules name existing backward kernels and saved inputs', () => {
    for (const [op, spec] of Object.entries(table)) {
      if (!spec.grad || !('kernel' in spec.grad)) continue;
      expect({ op, backward: spec.grad.kernel in table }).toEqual({ op, backward: true });
      const names = [...spec.inputs, ...spec.outputs].map((n) => n.replace(/[?.]+$/, ''));
      for (const saved of spec.grad.saves) expect({ op, saved, known: names.includes(saved) }).toEqual({ op, saved, known: true });
    }
  });

  test('an unknown op and a kernel missing for a backend fail clearly', () => {
    expect(() => native().run('no_such_op', [], {})).toThrow("unknown op 'no_such_op'");
  });
});
