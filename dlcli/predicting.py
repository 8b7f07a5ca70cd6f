"""`dlcli predict`: images, review texts or, from a CSV, the next value of a series."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlcli.errors import UsageError
from dlcli.runs import Run

GENERATIONS = {"gan": "images", "vae": "latent-grid"}  # the `dlcli generate` command of a generative kind's run


def predict(run_path: str, inputs: list[str], csv: str | None = None) -> list[dict[str, Any]]:
    """Predictions of a run's model: images (class, probability), review texts (probability of
    positive, tokenised with the run's vocabulary) or, with `csv`, the next value of a series."""
    from dlcli.backend import use_recorded

    if csv is not None:
        run = Run.open(run_path)
        use_recorded(run.info)
        return [_predict_series(run, csv)]
    if not inputs:
        raise UsageError("give at least one input to predict (images, texts, or --csv FILE for a series run)")
    run = Run.open(run_path) if Path(run_path).is_dir() else None
    if run is None and not Path(run_path).exists():
        from dlcli.pretrained import APPLICATIONS, network_key

        if network_key(run_path) not in APPLICATIONS:  # say so before the inputs are read
            raise UsageError(f"{run_path}: no such run directory or model file (RUN is a run's folder, an "
                             f"experiment's name for its latest run, a .keras file or a network such as vgg16)")
    if run is not None:
        use_recorded(run.info)
    if run is not None and run.vocabulary() is not None:
        if run.spec().data.name == "text_file":  # a character model: it continues text, it classifies none
            raise UsageError(f"{run}: a text-generation run predicts the next character, not a class; generate "
                             f'text from it: dlcli generate text {run} --seed-text "..."')
        return _predict_texts(run, inputs)
    model_type = run.spec().model.type if run is not None else None
    if model_type in GENERATIONS:  # it makes images, it classifies none
        raise UsageError(f"{run}: a {model_type} run generates images, it predicts no class; draw some: dlcli "
                         f"generate {GENERATIONS[model_type]} {run}")
    return _predict_images(run_path, inputs)


def _predict_images(model: str, inputs: list[str]) -> list[dict[str, Any]]:
    from dlcli.viz.images import read_image
    from dlcli.viz.sources import load_source

    images = [read_image(path) for path in inputs]  # every file checked before the model loads
    source = load_source(model)
    rows = []
    for path, image in zip(inputs, images):
        heads = {head: {"index": top[0][0], "class": top[0][1], "probability": top[0][2],
                        "top": [{"index": i, "class": n, "probability": p} for i, n, p in top]}
                 for head, top in source.heads(source.preprocess(image), 3).items()}
        first = next(iter(heads.values()))
        # A model with several outputs: the first output's answer, and each output's under "heads".
        rows.append({"input": path, **first, **({"heads": heads} if "" not in heads else {})})
    return rows


def _predict_texts(run: Run, inputs: list[str]) -> list[dict[str, Any]]:
    """Each input is a review, or the path of a .txt file holding one."""
    from dlcli.datasets.text import encode, vectorizer
    from dlcli.models.saving import load_model
    from dlcli.viz.sources import decode_scores

    spec = run.spec()
    texts = [Path(text).read_text(encoding="utf-8", errors="replace")
             if text.endswith(".txt") and Path(text).is_file() else text for text in inputs]
    sequences = encode(vectorizer(spec.data, run.vocabulary()), texts, spec.data)
    scores = load_model(run.model_path()).predict(sequences, verbose=0)
    names = run.info.get("class_names") or ["negative", "positive"]
    rows = []
    for text, score in zip(inputs, scores):
        (index, name, probability), *_ = decode_scores(score, names, 2)
        rows.append({"input": text, "index": index, "class": name,
                     "probability": probability, "output": [float(v) for v in score]})
    return rows


def _predict_series(run: Run, csv: str) -> dict[str, Any]:
    """The forecast from the last window of a CSV, in normalised units and in the target's own."""
    import numpy as np

    from dlcli.datasets.series import numeric_matrix, read_table
    from dlcli.models.saving import load_model

    spec = run.spec()
    info = run.info.get("data_info") or {}
    if "features" not in info:
        raise UsageError(f"{run}: not a series run; --csv applies to jena_climate and csv_series runs")
    table = read_table(Path(csv), "--csv")
    missing = [column for column in info["features"] if column not in table.columns]
    if missing:
        raise UsageError(f"{csv}: lacks the columns {missing} the run was trained on")
    data = numeric_matrix(table, info["features"], Path(csv))
    lookback, step = spec.data.lookback, spec.data.step
    if len(data) < lookback:
        raise UsageError(f"{csv}: {len(data)} rows, fewer than one window of lookback {lookback}")
    if info.get("normalization"):
        data = (data - np.asarray(info["normalization"]["mean"], "float32")) / np.asarray(
            info["normalization"]["std"], "float32")
    length = len(range(0, lookback, step))
    # The window that ends at the CSV's last row; in the book's generator a window ends `step` rows
    # before its reference row r and the target is `delay` rows after r.
    window = data[len(data) - 1 - (length - 1) * step::step][None]  # (1, steps, features)
    if spec.data.reverse:
        window = window[:, ::-1]
    value = float(np.asarray(load_model(run.model_path()).predict(window, verbose=0)).ravel()[0])
    target = info["target"]
    result = {"input": csv, "target": target, "rows_ahead": spec.data.delay + step, "prediction": value}
    if info.get("normalization"):
        result[f"prediction_{info.get('target_unit') or 'units'}"] = value * info["target_scale"] + info["target_mean"]
    return result
