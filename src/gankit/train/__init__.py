"""The trainer, checkpoints, run directories and training logs."""
