"""What `train` says before it loads its data: the dataset and, where the count is known before
loading, how many samples ("loading fashion_mnist: 60,000 training and 10,000 test images").

The counts are those the source publishes (dlcli.datasets.array_imports.PUBLISHED, which `data
import` checks every file against), cut to the spec's train_samples/test_samples; the shipped
digits' split and synthetic data's sizes follow from their parameters. Where they
are not known without reading the files (a folder of images, a class filter, one file that
Keras splits itself cut to a number), the line names the dataset alone.
"""

from __future__ import annotations


def loading_message(params) -> str:
    """The line for a validated `data` section."""
    from dlcli.datasets.array_imports import PUBLISHED, SPLIT_WORDS

    sizes = _known_sizes(params)
    if sizes is not None:
        train, test, unit = sizes
        return f"loading {params.name}: {train:,} training" + (f" and {test:,} test" if test else "") + f" {unit}"
    facts = PUBLISHED.get(params.name)
    limits = {"train": params.train_samples, "test": params.test_samples}
    one_file = "" in (facts.counts if facts else {})
    if facts is None or getattr(params, "classes", None) or (one_file and any(limits.values())):
        return f"loading {params.name} ..."
    parts = [f"{min(count, limits.get(split) or count):,} {SPLIT_WORDS[split]}".rstrip()
             for split, count in facts.counts.items()]
    return f"loading {params.name}: {' and '.join(parts)} {facts.unit}"


def _known_sizes(params) -> tuple[int, int, str] | None:
    """(training, test, what a sample is) of the datasets whose sizes are their parameters'."""
    if params.name == "digits":
        from dlcli.datasets.small import digits_split_sizes

        return (*digits_split_sizes(params), "images")
    if params.name == "synthetic":
        return params.num_samples, params.num_test, "images" if params.pixels else "samples"
    return None
