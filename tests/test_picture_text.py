"""Names drawn into pictures (a photo's file name, a history file's, a class) are drawn as written:
matplotlib would read text between two $ as mathematics, and fail on some."""

from __future__ import annotations

import numpy as np

ODD_NAME = r"price$\frac{$1.png"  # between the $: mathtext that does not parse


def test_a_grid_titled_with_a_dollar_in_a_file_name_is_drawn():
    from dlcli.viz.labelled import tile_sheet, title_width

    tiles = np.zeros((2, 8, 8, 3), "uint8")
    sheet = tile_sheet(tiles, 2, f"conv2d for {ODD_NAME}", [0, 1])
    assert sheet.ndim == 3 and sheet.dtype == np.uint8
    assert title_width("a$x_1$b.png") > title_width("ax1b.png")  # every character drawn, none as a subscript


def test_plot_of_a_history_file_with_a_dollar_in_its_name(run_cli, workdir):
    history = workdir / ODD_NAME.replace(".png", ".json")
    history.write_text('{"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}')
    result = run_cli("plot", str(history))
    assert result.exit_code == 0, result.stderr
