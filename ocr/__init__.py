"""Handwriting recognition on the tinygrad_hw engine: the NIST36 classifier and reading text from photos.

`nist36/` is the data every package trains on; `models`, `training` and `model_store` are the
classifiers, how they are trained and where they are kept; `letters`, `reading`, `photos`,
`scoring` and `page` read photos (or a generated page) and score the reading; `commands/` holds the
verbs of `python -m ocr`.
"""
