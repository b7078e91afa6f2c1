"""The application layer: what every command of the project shares, and the engine never imports.

`cli` holds the command-line conventions (verbs, `--data-dir`, `--out`, `--seed`, one-line
errors), `files` the atomic output files, `checkpoint` the one checkpoint format for parameter
pytrees, `cache` the project-wide cache folder, `training` the training loop with its progress
bar, `figures` the figures several commands draw, and `memory` the allocator setting of commands
that train. The engine (`tinygrad_hw` outside this folder and its own commands) knows nothing of
them: a test checks it.
"""
