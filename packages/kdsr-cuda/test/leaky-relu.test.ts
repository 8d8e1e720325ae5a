import { leakyRelu, leakyReluBackward, relu, Tensor, tidy } from '../src/ts';
import { expectClose, fixtureTensor, randomArray, randomTensor } from './helpers';
import { expectGradClose, numericalVjp } from './gradcheck';

const F = 'ops.safetensors';

describe('leaky_relu', () => {
  test('matches the fixture forward and gradient', () => {
    tidy(() => {
      const x = fixtureTensor(F, 'leaky_relu.x');
      expectClose(leakyRelu(x, 0.1), fixtureTensor(F, 'leaky_relu.y'), 1e-5, 'y');
      expectClose(leakyReluBackward(fixtureTensor(F, 'leaky_relu.dy'), x, 0.1), fixtureTensor(F, 'leaky_relu.grad_x'), 1e-4, 'grad_x');
    });
  });

  test("matches the GAN fixture's slope-0.2 LeakyReLU and ReLU (slope 0)", () => {
    tidy(() => {
      const G = 'gan.safetensors';
      const x02 = fixtureTensor(G, 'op.leaky_relu02.x');
      expectClose(leakyRelu(x02, 0.2), fixtureTensor(G, 'op.leaky_relu02.y'), 1e-5, 'y (0.2)');
      expectClose(leakyReluBackward(fixtureTensor(G, 'op.leaky_relu02.dy'), x02, 0.2), fixtureTensor(G, 'op.leaky_relu02.grad_x'), 1e-4, 'grad_x (0.2)');
      const x = fixtureTensor(G, 'op.relu.x');
      expectClose(relu(x), fixtureTensor(G, 'op.relu.y'), 1e-5, 'relu y');
      expectClose(leakyReluBackward(fixtureTensor(G, 'op.relu.dy'), x, 0), fixtureTensor(G, 'op.relu.grad_x'), 1e-4, 'relu grad_x');
    });
  });

  test.each([[[1, 1, 1, 1]], [[2, 3, 5, 7]], [[3, 17]]])('backward matches finite differences for %j', (shape) => {
    tidy(() => {
      // Inputs in [0.01, 1] with random signs keep every element away from the kink at 0.
      const n = shape.reduce((a, b) => a * b, 1);
      const magnitude = randomArray(n, 7, 0.01, 1);
      const sign = randomArray(n, 8);
      const x = Tensor.fromArray(magnitude.map((m, i) => (sign[i] < 0 ? -m : m)), shape);
      const dy = randomTensor(shape, 2);
      for (const slope of [0.1, 0.2, 0]) {
        const numerical = numericalVjp(([t]) => leakyRelu(t, slope), [x], 0, dy.toArray() as Float64Array);
        expectGradClose(leakyReluBackward(dy, x, slope), numerical, 1e-7, `dx (slope ${slope})`);
      }
    });
  });
});
