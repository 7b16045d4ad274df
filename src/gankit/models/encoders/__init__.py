"""The encoder family: models that learn an encoder x -> z beside their generator z -> x, one file each on the
shared ``base``."""
