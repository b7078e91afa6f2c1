"""NIST36 characters, for every package that trains on them (ocr, compression, torch_track, benchmarks).

`layout`: the 36 classes and the 32 x 32 images stored transposed as rows of 1024 (`upright`,
`stored`); `course_files`: the course's `.mat` splits, found and checked; `embedded`: the default
generated from matplotlib's fonts when there is no data; `augment`: random affine distortions;
`dataset`: one or the other for a command. The modules import only each other (in that order) and
the application layer, never the rest of `ocr`.
"""

from .augment import affine_matrices, distort_images
from .course_files import DataError, find_split_files, load_images, load_nist36, load_split_file
from .dataset import load_dataset
from .embedded import font_paths, load_synthetic, make_split, render
from .layout import CLASS_NAMES, PIXELS, SIDE, SPLITS, Split, stored, upright

__all__ = [
    "CLASS_NAMES", "PIXELS", "SIDE", "SPLITS", "Split", "stored", "upright",
    "DataError", "find_split_files", "load_images", "load_nist36", "load_split_file",
    "font_paths", "load_synthetic", "make_split", "render",
    "affine_matrices", "distort_images", "load_dataset",
]  # fmt: skip
