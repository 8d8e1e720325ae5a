// Results must not depend on the number of CPU threads: loops are statically chunked and every
// reduction combines fixed-size chunks in a fixed order. Inputs are large enough to run in parallel.
// Convolutions and linear layers run through oneDNN where it is built (its blocked layouts; the
// weight gradient per sample), else through the reference kernels.
import * as k from '../src/ts';
import { Tensor, tidy } from '../src/ts';
import { randomTensor } from './helpers';

function outputs(): Float32Array[] {
  return tidy(() => {
    const x = randomTensor([2, 16, 64, 48], 1, 'float32');
    const y = randomTensor([2, 16, 64, 48], 2, 'float32');
    const scale = randomTensor([16], 3, 'float32');
    const logits = randomTensor([300, 256], 4, 'float32', -5, 5);
    const teacher = randomTensor([300, 256], 5, 'float32', -5, 5);
    // Adam over several tensors: the threads' ranges cut through them.
    const params = [x.to('cpu'), randomTensor([7], 6, 'float32'), randomTensor([3, 5, 1001], 7, 'float32')];
    const grads = params.map((t, i) => randomTensor([...t.shape], 10 + i, 'float32'));
    const moments = params.map((t) => k.fill(t.shape, 0));
    const squares = params.map((t) => k.fill(t.shape, 0));
    k.adamUpdate(params, grads, moments, squares, { lr: 1e-3, step: 1 });
    // Convolutions in KDSR's kinds: 3 -> C head, C -> C body, C -> 3 tail, the discriminator's 4x4 stride 2.
    const convs: Array<[number[], number, number, { stride?: number; padding?: number }]> = [
      [[3, 3, 20, 18], 32, 3, {}],
      [[3, 32, 20, 18], 48, 3, {}],
      [[3, 32, 20, 18], 3, 3, {}],
      [[3, 16, 20, 18], 32, 4, { stride: 2, padding: 1 }],
    ];
    const convOutputs = convs.flatMap(([shape, cout, size, options], i) => {
      const cx = randomTensor(shape, 20 + i, 'float32');
      const w = randomTensor([cout, shape[1], size, size], 30 + i, 'float32');
      const b = randomTensor([cout], 40 + i, 'float32');
      const cy = k.conv2d(cx, w, b, options);
      const g = k.conv2dBackward(randomTensor([...cy.shape], 50 + i, 'float32'), cx, w, options);
      return [cy, g.dx!, g.dweight!, g.dbias!];
    });
    const features = randomTensor([48, 256], 60, 'float32');
    const linearWeight = randomTensor([64, 256], 61, 'float32');
    const linearY = k.linear(features, linearWeight, randomTensor([64], 62, 'float32'));
    const linearGrads = k.linearBackward(randomTensor([48, 64], 63, 'float32'), features, linearWeight);
    const list: Tensor[] = [
      ...convOutputs,
      linearY,
      linearGrads.dx!,
      linearGrads.dweight!,
      linearGrads.dbias!,
      k.axpy(x, y, 0.3),
      k.leakyRelu(x, 0.1),
      k.clampBackward(y, x, -0.5, 0.5),
      k.l1LossBackward(k.fill([1], 1), x, y).da,
      k.pixelShuffle(x, 4),
      k.pixelUnshuffle(x, 4),
      k.concatChannels(x, y),
      k.globalAvgPool(x),
      k.channelAffineBackward(y, x, scale).dscale!,
      k.l1Loss(x, y),
      k.kdLoss(logits, teacher, 0.15),
      k.kdLossBackward(k.fill([1], 1), logits, teacher, 0.15),
      k.logSoftmax(logits),
      k.reduceSum(x),
      k.reduceMean(x, 0),
      k.reduceMax(x, 2),
      k.reduceMax(x),
      k.randomNormal([100003], { seed: 9 }),
      k.quantize(x),
      ...params,
      ...moments,
      ...squares,
    ];
    return list.map((t) => t.toArray() as Float32Array);
  });
}

describe('thread-count independence', () => {
  const initial = k.numThreads();
  afterAll(() => k.setNumThreads(initial));

  test('1, 2, 3 and 16 threads give bit-identical results (oneDNN plans its work split for the thread count)', () => {
    k.setNumThreads(1);
    const one = outputs();
    for (const n of [2, 3, 16]) {
      k.setNumThreads(n);
      const many = outputs();
      many.forEach((out, i) => {
        if (!out.every((value, j) => Object.is(value, one[i][j]))) throw new Error(`output ${i} differs between 1 and ${n} threads`);
      });
    }
  });
});
