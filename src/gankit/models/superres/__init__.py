"""The super-resolution family: models that upscale images, in two stages each (a PSNR model trained on a
pixel loss, then its GAN), one file per model on the shared ``base``."""
