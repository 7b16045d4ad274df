"""The inpainting family: models that fill a hidden part of an image from the rest, one file each on the
shared ``base``."""
