"""The PyTorch counterparts of the engine's models, and their bigger siblings.

With `benchmarks` (which imports it only when PyTorch is installed), the only package that imports
torch; a test checks it. The library modules hold the models, the data and how each task trains;
`commands/` holds the tasks of `python -m torch_track`.
"""
