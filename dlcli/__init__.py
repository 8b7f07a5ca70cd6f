"""dlcli: the experiments of Deep Learning with Python as named, reproducible Keras 3 runs."""

__version__ = "0.1.0"
