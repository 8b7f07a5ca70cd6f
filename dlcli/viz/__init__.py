"""Visualisation of chapter 5: augmentation previews, activations, filter patterns, Grad-CAM.

Each module holds functions from (model, arrays) to arrays; `dlcli.api` reads the inputs and
writes the PNG files (into a run's viz/ with an index.json, or where --out says).
"""
