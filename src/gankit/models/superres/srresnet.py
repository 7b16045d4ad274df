"""SRResNet (Ledig et al. 2017): the generator of SRGAN trained alone on the pixel MSE, SRGAN's first
stage and its PSNR-oriented baseline.

G is SRResNet (gankit.nets.superres): a 9x9 convolution, ``blocks`` residual
blocks (conv-BN-PReLU-conv-BN) inside a long skip connection, log2(scale)
PixelShuffle x2 stages and a 9x9 convolution with tanh. With x an HR crop and
LR(x) its bicubic, antialiased, 8-bit downscaling:

    G minimises  E (G(LR(x)) - x)^2        (per pixel)

Adam 1e-4, betas (0.9, 0.999), batch 16 of 96x96 HR crops in the paper
(10^6 updates); 16 blocks of 64 channels. A run of this model is what
``srgan``'s ``options.pretrained`` starts from. The paper's LR inputs are in
[0, 1] and its HR targets in [-1, 1]; here both are in [-1, 1].
"""
from __future__ import annotations

from gankit.models.superres.base import PSNRModel
from gankit.nets.superres import SRResNet
from gankit.registry import register


@register
class SRResNetModel(PSNRModel):
    name = "srresnet"
    summary = "SRGAN's generator (residual blocks with BN, PixelShuffle) trained on the pixel MSE; srgan's stage 1"
    paper = "Ledig et al. 2017, Photo-Realistic Single Image Super-Resolution Using a GAN"
    pixel_loss = "mse"

    def __init__(self, options, data):
        super().__init__(options, data)
        self.G = SRResNet(self.channels, options.width, options.blocks, options.scale)
