"""The PyTorch counterparts of the engine's models: the only package that imports torch."""
