"""What `train` says it loads (datasets.counts): sizes known before loading are the sizes loaded."""

from __future__ import annotations

import pytest


def data_params(section: dict):
    from dlcli.datasets.params import DigitsParams, SyntheticParams

    return {"digits": DigitsParams, "synthetic": SyntheticParams}[section["name"]].model_validate(section)


@pytest.mark.parametrize("section", [
    {"name": "digits"},
    {"name": "digits", "test_fraction": 0.25, "split_seed": 3},
    {"name": "digits", "train_samples": 100, "shape": "flat"},
    {"name": "digits", "test_samples": 5000},  # more than there are: all of them
])
def test_the_digits_line_gives_the_sizes_load_digits_returns(section):
    from dlcli.datasets.counts import loading_message
    from dlcli.datasets.small import load_digits

    params = data_params(section)
    bundle = load_digits(None, params, None)
    expected = f"loading digits: {len(bundle.train.x):,} training and {len(bundle.test.x):,} test images"
    assert loading_message(params) == expected
    if "train_samples" not in section:
        assert len(bundle.train.x) + len(bundle.test.x) == 1_797  # every shipped digit, in one split or the other


def test_the_synthetic_line_gives_its_sizes():
    from dlcli.datasets.counts import loading_message

    assert loading_message(data_params({"name": "synthetic", "num_samples": 512, "num_test": 128})) == \
        "loading synthetic: 512 training and 128 test samples"
    assert loading_message(data_params({"name": "synthetic", "num_test": 0, "pixels": True})) == \
        "loading synthetic: 256 training images"
