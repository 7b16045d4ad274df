"""The widely copied stand-alone DCGAN script's networks and training loop, written here from its
description, as the baseline of gankit's speed benchmarks (issue 13).

G: a linear layer to 128 x 8 x 8, BatchNorm, then twice (2x nearest upsampling, 3x3 convolution,
BatchNorm with eps 0.8, LeakyReLU 0.2), a 3x3 convolution to one channel and tanh. D: four stride-2
3x3 convolutions (16, 32, 64, 128 channels), each followed by LeakyReLU 0.2 and Dropout2d 0.25 and,
after the first, BatchNorm with eps 0.8; a linear layer and a sigmoid. Convolutions start from
N(0, 0.02) and BatchNorm scales from N(1, 0.02). BCELoss, Adam 2e-4 with betas (0.5, 0.999), batch
64 of MNIST resized to 32x32 and scaled to [-1, 1] by torchvision transforms in the DataLoader; each
step updates G, then D on the same real batch. At 32x32 these networks cost 3.4x the FLOPs of
gankit's paper DCGAN (issue 13).
"""
from __future__ import annotations

import torch
from torch import nn

SIZE, Z_DIM = 32, 100


def reference_generator() -> nn.Module:
    def up(cin, cout):
        return [nn.Upsample(scale_factor=2), nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout, 0.8),
                nn.LeakyReLU(0.2)]

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(Z_DIM, 128 * (SIZE // 4) ** 2)
            self.body = nn.Sequential(nn.BatchNorm2d(128), *up(128, 128), *up(128, 64),
                                      nn.Conv2d(64, 1, 3, padding=1), nn.Tanh())

        def forward(self, z):
            return self.body(self.fc(z).view(len(z), 128, SIZE // 4, SIZE // 4))

    return init_normal(Generator())


def reference_discriminator() -> nn.Module:
    def block(cin, cout, bn=True):
        return [nn.Conv2d(cin, cout, 3, 2, 1), nn.LeakyReLU(0.2), nn.Dropout2d(0.25)] + (
            [nn.BatchNorm2d(cout, 0.8)] if bn else [])

    return init_normal(nn.Sequential(*block(1, 16, bn=False), *block(16, 32), *block(32, 64), *block(64, 128),
                                     nn.Flatten(), nn.Linear(128 * (SIZE // 16) ** 2, 1), nn.Sigmoid()))


def init_normal(net: nn.Module) -> nn.Module:
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.normal_(module.weight, 0.0, 0.02)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.normal_(module.weight, 1.0, 0.02)
            nn.init.zeros_(module.bias)
    return net


class ReferenceTraining:
    """The script's step: G's update on fresh noise (its backward also fills D's gradients), then D's on
    the real batch and the same fakes, detached; BCELoss on D's sigmoid outputs."""

    def __init__(self, device: str | torch.device = "cpu"):
        self.device = torch.device(device)
        self.G, self.D = reference_generator().to(self.device), reference_discriminator().to(self.device)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.bce = nn.BCELoss()

    def step(self, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One round on a real batch in [-1, 1]; returns (D's loss, G's loss)."""
        valid = torch.ones(len(real), 1, device=self.device)
        self.opt_g.zero_grad()
        fake = self.G(torch.randn(len(real), Z_DIM, device=self.device))
        g_loss = self.bce(self.D(fake), valid)
        g_loss.backward()
        self.opt_g.step()
        self.opt_d.zero_grad()
        d_loss = (self.bce(self.D(real), valid) + self.bce(self.D(fake.detach()), torch.zeros_like(valid))) / 2
        d_loss.backward()
        self.opt_d.step()
        return d_loss, g_loss
