"""Image compression: an autoencoder on the tinygrad_hw engine against PCA and JPEG.

Not built yet: see the compression issue.
"""
