"""The image-to-image family: models that map images of domain A to domain B (and back, for the
two-way ones), one file each on the shared ``base``."""
