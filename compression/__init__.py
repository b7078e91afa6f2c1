"""Image compression: an autoencoder on the tinygrad_hw engine against PCA and JPEG.

`autoencoder` and `pca` are the two codecs, `rate_distortion` measures them and JPEG, `experiment`
runs the comparison, `codec` reads what `encode` and `decode` take; `commands/` holds the verbs of
`python -m compression`.
"""
