"""Benchmarks: the engine against hand-written numpy and PyTorch, measured side by side in one run."""
