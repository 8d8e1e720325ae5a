"""KDSR's networks in PyTorch, for the side-by-side benchmarks (tools/bench_cpu_training.py and
tools/bench-cpu-inference/kdsr_torch.py), written as the original KDSR code writes them
(../shared/fixtures/README.md, "The networks"): IDR-DDC folds the batch into the channels and runs
one grouped convolution with B*C groups; MeanShift is a frozen 1x1 convolution. Parameter names
are kdsr's checkpoint keys (G.*, E.* for the teacher, E_st.* for the student), so that a kdsr
.safetensors model loads as it is.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

SLOPE = 0.1
RGB_MEAN = (0.4488, 0.4371, 0.4040)


def conv(cin, cout):
    return nn.Conv2d(cin, cout, 3, padding=1)


class MeanShift(nn.Conv2d):
    def __init__(self, sign):
        super().__init__(3, 3, 1)
        self.weight.data = torch.eye(3).view(3, 3, 1, 1)
        self.bias.data = sign * torch.tensor(RGB_MEAN)
        self.requires_grad_(False)


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(conv(c, c), nn.LeakyReLU(SLOPE), conv(c, c))

    def forward(self, x):
        return x + self.body(x)


class Encoder(nn.Module):
    """KD-IDE: returns (D, D') — the compressed IDR (C) and the one distilled (4C)."""

    def __init__(self, cin, c, n_resblocks):
        super().__init__()
        self.E = nn.Sequential(
            conv(cin, c), nn.LeakyReLU(SLOPE), *[ResBlock(c) for _ in range(n_resblocks)],
            conv(c, 2 * c), nn.LeakyReLU(SLOPE), conv(2 * c, 2 * c), nn.LeakyReLU(SLOPE), conv(2 * c, 4 * c), nn.LeakyReLU(SLOPE))
        self.mlp = nn.Sequential(nn.Linear(4 * c, 4 * c), nn.LeakyReLU(SLOPE), nn.Linear(4 * c, 4 * c), nn.LeakyReLU(SLOPE))
        self.compress = nn.Sequential(nn.Linear(4 * c, c), nn.LeakyReLU(SLOPE))

    def forward(self, x):
        idr_kd = self.mlp(self.E(x).mean(dim=(2, 3)))
        return self.compress(idr_kd), idr_kd


class IdrDdc(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.kernel = nn.Sequential(nn.Linear(c, c, bias=False), nn.LeakyReLU(SLOPE), nn.Linear(c, 9 * c, bias=False))

    def forward(self, x, d):
        b, c, h, w = x.shape
        k = self.kernel(d).view(-1, 1, 3, 3)
        return F.conv2d(x.view(1, -1, h, w), k, groups=b * c, padding=1).view(b, c, h, w)


class IdrDcrb(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.da_conv1 = IdrDdc(c)
        self.conv1 = conv(c, c)

    def forward(self, x, d):
        return x + self.conv1(F.leaky_relu(self.da_conv1(x, d), SLOPE))


class IdrGroup(nn.Module):
    def __init__(self, c, n_blocks):
        super().__init__()
        self.body = nn.ModuleList([IdrDcrb(c) for _ in range(n_blocks)])

    def forward(self, x, d):
        for block in self.body:
            x = block(x, d)
        return x


class Upsampler(nn.Sequential):
    def __init__(self, scale, c):
        layers = []
        if scale == 3:
            layers += [conv(c, 9 * c), nn.PixelShuffle(3)]
        else:
            for _ in range(int(math.log2(scale))):
                layers += [conv(c, 4 * c), nn.PixelShuffle(2)]
        super().__init__(*layers)


class Generator(nn.Module):
    def __init__(self, c, n_blocks, scale):
        super().__init__()
        self.sub_mean = MeanShift(-1)
        self.head = nn.Sequential(conv(3, c))
        self.body = nn.ModuleList([IdrGroup(c, n_blocks), conv(c, c)])
        self.tail = nn.Sequential(Upsampler(scale, c), conv(c, 3))
        self.add_mean = MeanShift(1)

    def forward(self, lr, d):
        f = self.head(self.sub_mean(lr))
        h = self.body[1](self.body[0](f, d)) + f
        return self.add_mean(self.tail(h))


class KdsrTeacher(nn.Module):
    """KDSR_T: the encoder sees the LR image and pixel_unshuffle(HR). forward returns (SR, D')."""

    def __init__(self, c, n_blocks, n_resblocks, scale):
        super().__init__()
        self.scale = scale
        self.G = Generator(c, n_blocks, scale)
        self.E = Encoder(3 + 3 * scale * scale, c, n_resblocks)

    def encoder_input(self, lr, hr):
        return torch.cat([lr, F.pixel_unshuffle(hr, self.scale)], dim=1)

    def forward(self, lr, hr):
        idr, idr_kd = self.E(self.encoder_input(lr, hr))
        return self.G(lr, idr), idr_kd


class KdsrStudent(nn.Module):
    """KDSR_S: the encoder sees the LR image only. forward returns (SR, D')."""

    def __init__(self, c, n_blocks, n_resblocks, scale):
        super().__init__()
        self.G = Generator(c, n_blocks, scale)
        self.E_st = Encoder(3, c, n_resblocks)

    def forward(self, lr):
        idr, idr_kd = self.E_st(lr)
        return self.G(lr, idr), idr_kd
