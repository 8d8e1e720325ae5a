import { Tensor } from '../tensor';
import { runOp1 } from './run';
import { checkSameDevice, checkSameShape } from './checks';

/** x > 0 ? x : negativeSlope * x (KDSR uses 0.1 everywhere). */
export function leakyRelu(x: Tensor, negativeSlope = 0.1): Tensor {
  return runOp1('leaky_relu', [x], { negative_slope: negativeSlope });
}

export function leakyReluBackward(dy: Tensor, x: Tensor, negativeSlope = 0.1): Tensor {
  checkSameShape('leaky_relu_backward', 'dy', dy, 'x', x);
  checkSameDevice('leaky_relu_backward', { dy, x });
  return runOp1('leaky_relu_backward', [dy, x], { negative_slope: negativeSlope });
}

/** max(x, 0): LeakyReLU with slope 0 (VGG's activation); its gradient is leakyReluBackward(dy, x, 0). */
export function relu(x: Tensor): Tensor {
  return leakyRelu(x, 0);
}
