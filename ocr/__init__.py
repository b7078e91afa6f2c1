"""Handwriting recognition on the tinygrad_hw engine: the NIST36 classifier and reading text from photos.

Not built yet: see the classifier and OCR issues.
"""
