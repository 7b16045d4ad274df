"""MUNIT (Huang et al. 2018): multimodal unsupervised translation by swapping style codes.

An image x of domain a splits into a content code c = E^c_a(x), a spatial map
both domains share in kind, and a style code s = E^s_a(x), 8 numbers specific
to domain a. G_a decodes (c, s) through residual blocks whose adaptive instance
norms take their scale and shift from s. A translation keeps a's content and
draws the target's style from the prior: x_ab = G_b(c_a, s_b), s_b ~ N(0, I),
so one input has many translations, one per style.

    G, E minimise   GAN_b(x_ab) + GAN_a(x_ba)                                    (least squares)
                  + lambda_x [ |G_a(c_a, s_a) - a| + |G_b(c_b, s_b) - b| ]        lambda_x = 10
                  + lambda_c [ |E^c_b(x_ab) - c_a| + |E^c_a(x_ba) - c_b| ]       lambda_c = 1
                  + lambda_s [ |E^s_b(x_ab) - s_b| + |E^s_a(x_ba) - s_a| ]       lambda_s = 1
    D_a, D_b minimise their least-squares losses, summed over scales.

The style term is what makes the outputs differ: a style drawn from the prior
must be readable back from the image it produced. Networks (gankit.nets.
translation): content encoder = the ResNet generator's way in plus residual
blocks (instance norm); style encoder without norm; AdaIN decoder (its MLP
maps the style to every norm's scale and shift) with layer norm on the way
up; multi-scale discriminators (3 scales, no norm). Adam 1e-4, betas (0.5,
0.999); D steps first. Deviations: the authors' weight decay 1e-4 and their
optional explicit cycle term (weight 0 in most of their configs) are left
out.

``translate`` draws a fresh style for every image unless one is given;
``gankit translate --styles K`` writes K outputs per input, the k-th with the
same style for every input.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.losses import d_loss_least_squares, least_squares_g_loss, paired_l1
from gankit.models.base import Player
from gankit.models.translation.base import TranslationOptions, TwoWayTranslationModel
from gankit.nets.blocks import dcgan_init
from gankit.nets.translation import AdaINDecoder, MultiScaleDiscriminator, ResidualBlock, StyleEncoder, resnet_down
from gankit.registry import register


@dataclass
class MUNITOptions(TranslationOptions):
    lr: float = 1e-4
    gan_weight: float = 1.0
    image_weight: float = 10.0  # lambda_x
    content_weight: float = 1.0  # lambda_c
    style_weight: float = 1.0  # lambda_s
    style_dim: int = 8
    blocks: int = 4  # residual blocks in each content encoder and (with AdaIN) each decoder
    mlp_dim: int = 256
    scales: int = 3  # discriminator scales: the image, then average-pooled by 2, 4, ...
    d_layers: int = 3  # stride-2 convolutions per scale

    def validate(self) -> None:
        super().validate()
        if min(self.gan_weight, self.image_weight, self.content_weight, self.style_weight) < 0:
            raise GankitError("options.gan_weight, image_weight, content_weight and style_weight must be "
                              "non-negative.")
        if min(self.style_dim, self.blocks, self.mlp_dim, self.scales, self.d_layers) < 1:
            raise GankitError("options.style_dim, blocks, mlp_dim, scales and d_layers must be at least 1.")


def summed_over_scales(loss: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """A loss on one logit grid turned into the sum of it over a multi-scale D's grids."""
    return lambda *grids: sum(loss(*scale) for scale in zip(*grids))


@register
class MUNIT(TwoWayTranslationModel):
    name = "munit"
    summary = "content + style encoders per domain, AdaIN decoders; translate = other domain's decoder on " \
              "this content with a random style (many outputs per input); multi-scale D"
    paper = "Huang, Liu, Belongie & Kautz 2018, Multimodal Unsupervised Image-to-Image Translation"
    Options = MUNITOptions
    multimodal = True
    ema_modules = ("content_a", "content_b", "style_a", "style_b", "G_a", "G_b")

    def __init__(self, options, data):
        super().__init__(options, data)
        o = options
        smallest = 1 << (o.scales - 1 + o.d_layers)  # halved scales - 1 times, then d_layers times by each D
        if self.size < smallest:
            raise ValueError(f"{o.scales} discriminator scales of {o.d_layers} stride-2 layers need images of at "
                             f"least {smallest}x{smallest}; lower options.scales or options.d_layers")
        w = o.width
        self.content_a, self.content_b = (self._content_encoder(c) for c in (self.channels_a, self.channels_b))
        self.style_a, self.style_b = (StyleEncoder(c, self.size, w, o.style_dim)
                                      for c in (self.channels_a, self.channels_b))
        self.G_a, self.G_b = (AdaINDecoder(c, w, o.blocks, o.style_dim, o.mlp_dim)
                              for c in (self.channels_a, self.channels_b))
        self.D_a, self.D_b = (MultiScaleDiscriminator(c, w, o.scales, o.d_layers)
                              for c in (self.channels_a, self.channels_b))

    def _content_encoder(self, channels: int) -> nn.Module:
        w = self.options.width
        encoder = nn.Sequential(*resnet_down(channels, w, "instance"),
                                *[ResidualBlock(4 * w, "instance") for _ in range(self.options.blocks)])
        return encoder.apply(dcgan_init)

    def draw_styles(self, n: int) -> Tensor:
        """n style codes from the prior N(0, I)."""
        return torch.randn(n, self.options.style_dim, device=self.device)

    def translate(self, x, direction="a2b", style: Optional[Tensor] = None):
        content, decoder = (self.content_a, self.G_b) if direction == "a2b" else (self.content_b, self.G_a)
        return decoder(content(x), self.draw_styles(len(x)) if style is None else style)

    def translations(self, batch):
        return self.translate(batch.x, "a2b"), self.translate(batch.x_b, "b2a")

    def players(self):
        return [Player("D", [self.D_a, self.D_b], self.d_loss, self.optim()),
                Player("G", [self.content_a, self.content_b, self.style_a, self.style_b, self.G_a, self.G_b],
                       self.g_loss, self.optim())]

    def d_loss(self, batch):
        return self.critics_loss(summed_over_scales(d_loss_least_squares), batch)

    def g_loss(self, batch):
        o, a, b = self.options, batch.x, batch.x_b
        content_a, content_b = self.content_a(a), self.content_b(b)
        style_a, style_b = self.draw_styles(len(a)), self.draw_styles(len(b))
        fake_b, fake_a = self.G_b(content_a, style_b), self.G_a(content_b, style_a)
        image = paired_l1(self.G_a(content_a, self.style_a(a)), a) + paired_l1(self.G_b(content_b, self.style_b(b)), b)
        content = paired_l1(self.content_b(fake_b), content_a) + paired_l1(self.content_a(fake_a), content_b)
        style = paired_l1(self.style_b(fake_b), style_b) + paired_l1(self.style_a(fake_a), style_a)
        g_loss = summed_over_scales(least_squares_g_loss)
        adversarial = g_loss(self.D_b(fake_b)) + g_loss(self.D_a(fake_a))
        loss = (o.gan_weight * adversarial + o.image_weight * image + o.content_weight * content
                + o.style_weight * style)
        return loss, {"loss": loss.detach(), "adversarial": adversarial.detach(), "image": image.detach(),
                      "content": content.detach(), "style": style.detach()}
