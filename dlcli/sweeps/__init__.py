"""Hyperparameter sweeps (7.3.2) on Optuna: `space` parses the search space, `runner` runs and
resumes a study whose trials are ordinary run directories, `report` writes sweep.csv and plots."""
