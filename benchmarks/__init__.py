"""Benchmarks: the engine against hand-written numpy and PyTorch, measured side by side in one run.

Each measurement is a module (`mlp_epoch`, `autoencoder_epoch`, `cnn_step`, `parity`, ...), `suite`
runs them all, `parts` runs every command of the project for the report; `commands/` holds the
verbs of `python -m benchmarks`. PyTorch is optional here: it is imported only where it is used.
"""
