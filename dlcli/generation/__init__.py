"""Chapter 8's generations from trained runs: one module each (text, latent grid, images), functions
from a run and options to the files they write into its `samples/` folder. Keras is imported only
inside the functions that need it."""
