// VGG19 features and the perceptual loss against gan.safetensors' `percep.*` (a VGG19 with every
// width divided by 16, torchvision's keys), and the loader of user-supplied VGG19 weights.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { saveSafetensors, Tensor, tidy } from '@kdsr/cuda';
import { backward } from '../src/autograd/backward';
import { setRequiresGrad } from '../src/autograd/graph';
import { loadVgg19 } from '../src/checkpoint/vgg-weights';
import { Vgg19, VGG19_WIDTHS } from '../src/models/vgg';
import { Initializer } from '../src/nn/init';
import { PERCEPTUAL_LAYERS, PerceptualLoss } from '../src/train/perceptual-loss';
import { expectClose, fixtureGroup, fixturePath, fixtureTensor } from './helpers';

const FILE = 'gan.safetensors';
const WIDTHS = VGG19_WIDTHS.map((w) => w / 16);

function fixtureVgg(): Vgg19 {
  const vgg = new Vgg19(WIDTHS, new Initializer({ seed: 2 }));
  vgg.loadStateDict(fixtureGroup(FILE, 'percep.vgg.'), { source: 'gan.safetensors percep.vgg' });
  return vgg;
}

describe('VGG19 perceptual loss', () => {
  test("has torchvision's feature keys (features.0 ... features.34) and shapes, all frozen", () => {
    const vgg = new Vgg19(WIDTHS, new Initializer({ seed: 2 }));
    const expected = fixtureGroup(FILE, 'percep.vgg.');
    expect([...vgg.stateDict().keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, t] of vgg.stateDict()) expect({ key, shape: t.shape }).toEqual({ key, shape: expected.get(key)!.shape });
    expect(vgg.trainableParameters()).toEqual([]);
    vgg.dispose();
  });

  test('the features before ReLU, the per-layer L1, the loss and its gradient match the fixture', () => {
    const vgg = fixtureVgg();
    const percep = new PerceptualLoss(vgg);
    tidy(() => {
      const sr = setRequiresGrad(fixtureTensor(FILE, 'percep.sr').reshape([2, 3, 32, 32]));
      const gt = fixtureTensor(FILE, 'percep.gt');
      const { loss, layers } = percep.forward(sr, gt);
      for (const { name } of PERCEPTUAL_LAYERS) expectClose(layers.get(name)!, fixtureTensor(FILE, `percep.l1.${name}`), 1e-5, `l1 ${name}`);
      expectClose(loss, fixtureTensor(FILE, 'percep.loss'), 1e-5, 'loss');
      const [grad] = backward(loss, { inputs: [sr] });
      expectClose(grad!, fixtureTensor(FILE, 'percep.grad_sr'), 1e-4, 'grad_sr');
      // The features themselves, through the same normalisation.
      const mean = fixtureTensor(FILE, 'percep.mean').toArray();
      const std = fixtureTensor(FILE, 'percep.std').toArray();
      for (const side of ['sr', 'gt'] as const) {
        const x = fixtureTensor(FILE, `percep.${side}`);
        const v = x.toArray();
        const normalised = new Float32Array(v.length);
        const plane = 32 * 32;
        for (let i = 0; i < v.length; i++) {
          const c = Math.floor(i / plane) % 3;
          normalised[i] = (v[i] - mean[c]) / std[c];
        }
        const feats = vgg.extract(Tensor.fromArray(normalised, x.shape), PERCEPTUAL_LAYERS.map((l) => l.index));
        for (const { name, index } of PERCEPTUAL_LAYERS) expectClose(feats.get(index)!, fixtureTensor(FILE, `percep.feat_${side}.${name}`), 1e-5, `${side} ${name}`);
      }
    });
    percep.dispose();
    vgg.dispose();
  });

  describe('loading user-supplied VGG19 weights', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdsr-vgg-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test('a safetensors with torchvision keys (classifier included) loads every feature weight exactly, widths read from the file', () => {
      const weights = fixtureGroup(FILE, 'percep.vgg.');
      const file = path.join(dir, 'vgg19.safetensors');
      const withClassifier = new Map(weights);
      withClassifier.set('classifier.0.weight', Tensor.fromArray(new Float32Array(6), [2, 3]));
      saveSafetensors(file, withClassifier);
      const vgg = loadVgg19(file);
      expect(vgg.widths).toEqual(WIDTHS);
      for (const [key, t] of vgg.stateDict()) expect({ key, equal: Array.from(t.toArray()) }).toEqual({ key, equal: Array.from(weights.get(key)!.toArray()) });
      vgg.dispose();
    });

    test('a missing file, a foreign checkpoint and an inconsistent VGG fail with one line naming the file to get', () => {
      expect(() => loadVgg19(path.join(dir, 'nope.pth'))).toThrow(
        `VGG19 weights not found at ${path.join(dir, 'nope.pth')}: download torchvision's vgg19-dcbb9e9d.pth from https://download.pytorch.org/models/vgg19-dcbb9e9d.pth`,
      );
      // A KDSR checkpoint read through the .pth reader is not a VGG19.
      expect(() => loadVgg19(fixturePath('teacher_tiny.pth'))).toThrow(/teacher_tiny\.pth is not torchvision's VGG19: missing features\.0\.weight, .*get torchvision's vgg19-dcbb9e9d\.pth/);
      const broken = new Map(fixtureGroup(FILE, 'percep.vgg.'));
      broken.set('features.7.weight', Tensor.fromArray(new Float32Array(8 * 4 * 9), [8, 4, 3, 3]));
      broken.delete('features.34.bias');
      const file = path.join(dir, 'broken.safetensors');
      saveSafetensors(file, broken);
      expect(() => loadVgg19(file)).toThrow(/broken\.safetensors: missing keys features\.34\.bias \(get torchvision's vgg19-dcbb9e9d\.pth/);
      broken.set('features.34.bias', fixtureTensor(FILE, 'percep.vgg.features.34.bias'));
      saveSafetensors(file, broken);
      expect(() => loadVgg19(file)).toThrow(/broken\.safetensors: 'features\.7\.weight' has shape \[8,4,3,3\], the model expects \[8,8,3,3\] \(get torchvision's/);
    });
  });
});
