"""The unconditional family: G(z) against a critic D, one file per objective on the shared ``base``."""
