// UNetDiscriminatorSN against gan.safetensors' `disc.*`: BasicSR's keys, one training-mode forward
// (a power iteration in every spectral norm), the BCE loss and every gradient.
import { spectralNorm, Tensor, tidy } from '@kdsr/cuda';
import { backward } from '../src/autograd/backward';
import * as F from '../src/autograd/functional';
import { setRequiresGrad } from '../src/autograd/graph';
import { UNetDiscriminatorSN } from '../src/models/discriminator';
import { Initializer } from '../src/nn/init';
import { expectClose, fixtureGroup, fixtureTensor } from './helpers';

const FILE = 'gan.safetensors';
const SN_CONVS = [1, 2, 3, 4, 5, 6, 7, 8];

function fixtureDiscriminator(): UNetDiscriminatorSN {
  const d = new UNetDiscriminatorSN(3, 4, new Initializer({ seed: 1 }));
  d.loadStateDict(fixtureGroup(FILE, 'disc.param.'), { source: 'gan.safetensors disc.param' });
  return d;
}

describe('UNetDiscriminatorSN', () => {
  test("has exactly BasicSR's state-dict keys and shapes", () => {
    const d = new UNetDiscriminatorSN(3, 4, new Initializer({ seed: 1 }));
    const expected = fixtureGroup(FILE, 'disc.param.');
    const actual = d.stateDict();
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, t] of expected) expect({ key, shape: actual.get(key)!.shape }).toEqual({ key, shape: t.shape });
    expect(d.trainableParameters().length).toBe(2 + 8 + 2); // conv0.*, convN.weight_orig, conv9.*
    d.dispose();
  });

  test('training-mode forward, sigma, SN state, BCE loss and gradients match the fixture', () => {
    const d = fixtureDiscriminator();
    tidy(() => {
      const input = setRequiresGrad(fixtureTensor(FILE, 'disc.input').reshape([2, 3, 32, 32]));
      const logits = d.forward(input, { training: true });
      expectClose(logits, fixtureTensor(FILE, 'disc.logits'), 1e-5, 'logits');
      const state = d.stateDict();
      for (const n of SN_CONVS) {
        const u = state.get(`conv${n}.weight_u`)!;
        const v = state.get(`conv${n}.weight_v`)!;
        expectClose(u, fixtureTensor(FILE, `disc.after.conv${n}.weight_u`), 1e-5, `conv${n}.weight_u`);
        expectClose(v, fixtureTensor(FILE, `disc.after.conv${n}.weight_v`), 1e-5, `conv${n}.weight_v`);
        // sigma = u'ᵀ W v' with the state the forward left behind.
        const sigma = spectralNorm(state.get(`conv${n}.weight_orig`)!, u, v, { training: false }).sigma;
        expectClose(sigma, fixtureTensor(FILE, `disc.sigma.conv${n}`), 1e-5, `sigma conv${n}`);
      }
      const loss = F.bceWithLogits(logits, 1);
      expectClose(loss, fixtureTensor(FILE, 'disc.loss'), 1e-5, 'loss');
      const [gradInput] = backward(loss, { inputs: [input] });
      expectClose(gradInput!, fixtureTensor(FILE, 'disc.grad.input'), 1e-4, 'grad input');
    });
    for (const [name, p] of d.namedParameters()) {
      if (!p.trainable) {
        expect(p.grad).toBeNull();
        continue;
      }
      expectClose(p.grad!, fixtureTensor(FILE, `disc.grad.${name}`), 1e-4, `grad ${name}`);
    }
    d.dispose();
  });

  test('eval mode keeps the SN state; a frozen forward gives the input its gradient and the parameters none', () => {
    const d = fixtureDiscriminator();
    tidy(() => {
      const before = d.stateDict().get('conv3.weight_u')!.toArray();
      const input = setRequiresGrad(fixtureTensor(FILE, 'disc.input').reshape([2, 3, 32, 32]));
      const evalLogits = d.forward(input, { training: false });
      expect(Array.from(d.stateDict().get('conv3.weight_u')!.toArray())).toEqual(Array.from(before));
      const frozen = d.forward(input, { training: true, frozen: true });
      expectClose(frozen, fixtureTensor(FILE, 'disc.logits'), 1e-5, 'frozen logits');
      const [gradInput] = backward(F.bceWithLogits(frozen, 1), { inputs: [input] });
      expectClose(gradInput!, fixtureTensor(FILE, 'disc.grad.input'), 1e-4, 'frozen grad input');
      expect(d.parameters().every((p) => p.grad === null)).toBe(true);
      expect(evalLogits.shape).toEqual([2, 1, 32, 32]);
    });
    d.dispose();
  });

  test('rejects sizes that are not multiples of 8', () => {
    const d = new UNetDiscriminatorSN(3, 4, new Initializer({ seed: 1 }));
    tidy(() => expect(() => d.forward(Tensor.fromArray(new Float32Array(3 * 12 * 16), [1, 3, 12, 16]), { training: true })).toThrow('UNetDiscriminatorSN: height and width must be multiples of 8, got 12x16'));
    d.dispose();
  });
});
