"""One file per GAN variant; each registers itself with gankit.registry.register."""
