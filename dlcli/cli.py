"""The dlcli command line: parse, call one function of dlcli.api, print.

Exit codes: 0 ok, 1 run failed, 2 usage or spec error, 3 data or weights unavailable,
4 reference not reproduced (--check, check), 130 interrupted.
"""

from __future__ import annotations

import json
import sys

import click

from dlcli import __version__
from dlcli.errors import EXIT_INTERRUPTED, EXIT_REFERENCE, EXIT_RUN_FAILED, DlcliError

_STATE = {"debug": False}


def _print_json(data) -> None:
    from dlcli.rundir import dumps

    click.echo(dumps(data), nl=False)


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def _number(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="dlcli")
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
@click.option("--verbose", is_flag=True, help="Keep TensorFlow's and Keras' own logs and warnings.")
def cli(debug: bool, verbose: bool) -> None:
    """Run the experiments of Deep Learning with Python as named, reproducible Keras 3 runs.

    \b
    dlcli list                       the named experiments
    dlcli train digits-convnet       train one; writes runs/digits-convnet/<time>/
    dlcli plot runs/digits-convnet/<time>
    """
    _STATE["debug"] = debug
    if verbose:
        from dlcli.keras_backend import set_verbose

        set_verbose(True)


# --------------------------------------------------------------------------- catalogue


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array on stdout.")
def list_command(as_json: bool) -> None:
    """List every named experiment with its description and source."""
    from dlcli import api

    rows = api.list_experiments()
    if as_json:
        _print_json(rows)
        return
    table = [[r["name"], r["dataset"], r["description"] + (f" [{r['runtime']}]" if r["runtime"] else ""), r["source"]]
             for r in rows]
    click.echo(_table(table, ["NAME", "DATASET", "DESCRIPTION", "SOURCE"]))


@cli.command()
@click.argument("experiment")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a spec value, e.g. fit.epochs=3.")
def show(experiment: str, overrides: tuple[str, ...]) -> None:
    """Print the resolved spec of EXPERIMENT (a name or a YAML file), defaults filled in."""
    from dlcli import api

    click.echo(api.show(experiment, overrides), nl=False)


@cli.command()
@click.argument("experiments", nargs=-1, required=True)
@click.option("--no-cache", is_flag=True, help="Validate every spec again, even one that passed before unchanged.")
def validate(experiments: tuple[str, ...], no_cache: bool) -> None:
    """Check specs (names or YAML files) without importing TensorFlow; exit 0 or 2.

    A spec file that already passed, unchanged, with this same dlcli and pydantic is not
    checked again (the record is in $DLCLI_CACHE_DIR, else ~/.cache/dlcli)."""
    from dlcli import api
    from dlcli.errors import SpecError

    results = api.validate(list(experiments), use_cache=not no_cache)
    for result in results:
        if result["ok"]:
            click.echo(f"ok: {result['name']}")
        for line in result["errors"]:
            click.echo(f"error: {line}", err=True)
    if not all(result["ok"] for result in results):
        raise SystemExit(SpecError.exit_code)


# --------------------------------------------------------------------------- training


def _print_verdict(check: dict) -> None:
    from dlcli.reference import describe

    if check.get("status", "none") == "none":
        return
    where = ", ".join(x for x in (check.get("source"), check.get("listing") and f"listing {check['listing']}") if x)
    click.echo(f"reference ({where}): {check['status']}")
    for line in describe(check):
        click.echo(line)


def _print_metrics(metrics: dict) -> None:
    """Test metrics, the best validation epoch, and a baseline's validation metrics; else the last epoch."""
    shown = {k: v for k, v in metrics.items()
             if k.startswith(("test_", "val_", "output", "best_val_", "best_epoch"))} or {
        k: v for k, v in metrics.items() if k.startswith("final_")}
    for key, value in shown.items():
        click.echo(f"{key}: {_number(value)}")


@cli.command()
@click.argument("experiment")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a spec value, e.g. data.num_words=5000.")
@click.option("--epochs", type=click.IntRange(min=0), help="Override fit.epochs.")
@click.option("--seed", type=click.IntRange(min=0), help="Override the spec's seed.")
@click.option("--run-dir", type=click.Path(file_okay=False), help="Write the run here (new or empty) instead of runs/<name>/<time>/.")
@click.option("--check", "gate", is_flag=True, help="Exit 4 when the run does not reproduce its reference.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object {run_dir, status, metrics, check} on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="No per-epoch progress on stderr.")
def train(experiment, overrides, epochs, seed, run_dir, gate, as_json, quiet) -> None:
    """Train EXPERIMENT (a name or a YAML file), evaluate it on its test split, save the run."""
    from dlcli import api

    from dlcli.errors import RunFailed

    verbose = 0 if quiet else (1 if sys.stderr.isatty() else 2)
    try:
        result = api.train(experiment, overrides, epochs=epochs, seed=seed, run_dir=run_dir, verbose=verbose)
    except RunFailed as failure:
        if as_json:  # a script still gets its one object, and the exit code says the rest
            _print_json({"run_dir": failure.run_dir, "status": "failed", "metrics": {},
                         "check": {"status": "none", "checks": []}, "error": failure.error})
        raise
    if as_json:
        _print_json(result)
    else:
        click.echo(f"run directory: {result['run_dir']}")
        click.echo(f"status: {result['status']}")
        _print_metrics(result["metrics"])
        _print_verdict(result["check"])
    if result["status"] == "interrupted":
        click.echo(f"interrupted: {result['run_dir']} keeps the history and checkpoints so far", err=True)
        raise SystemExit(EXIT_INTERRUPTED)
    if gate and result["check"]["status"] not in ("passed", "none"):
        raise SystemExit(EXIT_REFERENCE)


@cli.command()
@click.argument("run", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def evaluate(run: str, as_json: bool) -> None:
    """Reload RUN's model.keras and evaluate it on the test split of its spec."""
    from dlcli import api

    result = api.evaluate(run)
    if as_json:
        _print_json(result)
    else:
        _print_metrics(result["metrics"])


@cli.command()
@click.argument("run", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def check(run: str, as_json: bool) -> None:
    """Say whether RUN reproduced its spec's reference; exit 4 if it did not."""
    from dlcli import api

    result = api.check(run)
    if as_json:
        _print_json(result)
    else:
        click.echo(f"{result['experiment']}: {result['check']['status']}")
        _print_verdict(result["check"])
    if result["check"]["status"] not in ("passed", "none"):
        raise SystemExit(EXIT_REFERENCE)


# --------------------------------------------------------------------------- reading runs


@cli.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path())
@click.option("--metric", help="One metric (loss, accuracy, mae...; val_loss overlays validation curves).")
@click.option("--smooth", type=float, help="Exponential smoothing factor in [0, 1), e.g. 0.9 (listing 3.31).")
@click.option("--skip-first", type=int, default=0, show_default=True, help="Drop the first N epochs (listing 3.31).")
@click.option("--out", type=click.Path(), help="PNG file (or folder) to write; default: the first run's plots/.")
def plot(runs, metric, smooth, skip_first, out) -> None:
    """Learning curves of one run (training vs validation) or several runs overlaid."""
    from dlcli.plotting import plot_runs

    for path in plot_runs(list(runs), metric=metric, smooth=smooth, skip_first=skip_first, out=out):
        click.echo(path)


@cli.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV on stdout.")
def compare(runs, as_json: bool, as_csv: bool) -> None:
    """Final metrics of several runs side by side, with the spec values that differ."""
    from dlcli import api

    result = api.compare(list(runs))
    if as_json:
        _print_json(result)
        return
    metrics = [m for m in result["metric_names"] if m.startswith(("test_", "val_", "best_", "final_val", "output"))
               and not m.startswith("fold_")] or result["metric_names"]
    headers = ["run", "experiment", "status", "check", *metrics, *result["differing_spec_keys"]]
    rows = [[r["run"], r["experiment"], r["status"], r["check"],
             *(_number(r["metrics"].get(m, "")) for m in metrics),
             *(json.dumps(r["spec"].get(k)) if not isinstance(r["spec"].get(k), str) else r["spec"][k]
               for k in result["differing_spec_keys"])] for r in result["runs"]]
    if as_csv:
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(headers)
        writer.writerows(rows)
    else:
        click.echo(_table(rows, headers))


# --------------------------------------------------------------------------- data


@cli.group()
def data() -> None:
    """Datasets: what is in the cache, downloading, importing files you already have."""


@data.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array on stdout.")
def data_list(as_json: bool) -> None:
    """Each dataset: present or missing, size, where it comes from."""
    from dlcli import api

    rows = api.data_list()
    if as_json:
        _print_json(rows)
        return
    table = [[r["name"], "shipped" if r["shipped"] else "data.path" if r["external"] else
              ("present" if r["present"] else "missing"),
              f"{r['size_bytes'] / 1e6:.1f} MB" if r["size_bytes"] else "-", r["description"]] for r in rows]
    click.echo(_table(table, ["NAME", "STATUS", "SIZE", "DESCRIPTION"]))


@data.command("download")
@click.argument("name")
def data_download(name: str) -> None:
    """Download dataset NAME into the cache (data/ or $DLCLI_DATA_DIR)."""
    from dlcli import api

    for path in api.data_download(name):
        click.echo(path)


@data.command("split")
@click.argument("name", metavar="cats-vs-dogs")
@click.argument("source", type=click.Path())
@click.option("--dest", type=click.Path(file_okay=False), help="Write here instead of the data cache (data/cats-vs-dogs).")
@click.option("--train", type=click.IntRange(min=0), default=1000, show_default=True, help="Images per class for training.")
@click.option("--validation", type=click.IntRange(min=0), default=500, show_default=True, help="Images per class for validation.")
@click.option("--test", type=click.IntRange(min=0), default=500, show_default=True, help="Images per class for test.")
@click.option("--shuffle", is_flag=True, help="Draw the images at random instead of by index (5.4 takes them by index).")
@click.option("--seed", type=int, default=None, help="Seed of --shuffle.")
@click.option("--overwrite", is_flag=True, help="Replace a non-empty destination.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def data_split(name, source, dest, train, validation, test, shuffle, seed, overwrite, as_json) -> None:
    """Build train/validation/test/{cats,dogs} from Kaggle's Dogs-vs-Cats train/ folder or zip.

    By default the first 1000/500/500 images of each class by index, as listing 5.4 does. Images
    that do not decode are skipped and reported; the source is never changed.
    """
    from dlcli import api

    report = api.data_split(name, source, dest, train, validation, test, shuffle, seed, overwrite,
                            progress=lambda line: click.echo(line, err=True))
    if as_json:
        _print_json(report)
        return
    for split, counts in report["counts"].items():
        click.echo(f"{split}: " + ", ".join(f"{folder} {n}" for folder, n in counts.items()))
    if report["skipped"]:
        click.echo(f"skipped {len(report['skipped'])} file(s) that do not decode (listed above)")
    click.echo(f"written to {report['destination']}")


@data.command("import")
@click.argument("name")
@click.argument("path", type=click.Path())
def data_import(name: str, path: str) -> None:
    """Check files you already have for dataset NAME and store them in the cache.

    \b
    mnist            mnist.npz, or a folder with the four IDX .gz files
    fashion_mnist    a folder with the four IDX .gz files
    imdb, reuters    Keras' imdb.npz / reuters.npz
    boston_housing   Keras' boston_housing.npz, or the CSV with columns CRIM ... MEDV
    cifar10          cifar-10-python.tar.gz
    weights          keras.applications weight files as Keras caches them (a file, or ~/.keras/models)
    """
    from dlcli import api

    for stored in api.data_import(name, path):
        click.echo(stored)


# --------------------------------------------------------------------------- visualisation


@cli.group()
def visualize() -> None:
    """Chapter 5's pictures: augmentation, activations, filter patterns, Grad-CAM heatmaps."""


MODEL_HELP = "A run directory, a .keras/.h5 file, or a pretrained network (vgg16, resnet50...)."


@visualize.command("gradcam")
@click.argument("image", type=click.Path())
@click.option("--model", "model", help=MODEL_HELP + "  [default: vgg16 with ImageNet weights]")
@click.option("--layer", help="Convolution layer to explain  [default: the last one]")
@click.option("--class", "class_name", help="Class index or name to explain  [default: the top prediction]")
@click.option("--alpha", type=float, default=0.4, show_default=True, help="Heatmap intensity in the overlay.")
@click.option("--out", type=click.Path(dir_okay=False), help="Overlay file (the heatmap goes beside it).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def visualize_gradcam(image, model, layer, class_name, alpha, out, as_json) -> None:
    """Grad-CAM heatmap of IMAGE (5.40-5.44): the top-3 predictions, the heatmap and its overlay.

    With a run's model, the run's preprocessing and class names are used; the files go into the
    run's viz/ (listed in viz/index.json) unless --out is given, else into the current folder.
    """
    from dlcli import api

    result = api.visualize_gradcam(image, model, layer, class_name, alpha, out)
    if as_json:
        _print_json(result)
        return
    for rank, row in enumerate(result["top"], start=1):
        click.echo(f"{rank}. {row['class']}: {row['probability']:.4f}")
    click.echo(f"explained: class {result['class_index']} ({result['class']}) at layer {result['layer']}")
    click.echo(f"overlay: {result['overlay']}")
    click.echo(f"heatmap: {result['heatmap']}")
    if result.get("warning"):
        click.echo(f"warning: {result['warning']}", err=True)


@visualize.command("activations")
@click.argument("image", type=click.Path())
@click.option("--model", "model", required=True, help="A run directory or a .keras/.h5 file (or vgg16...).")
@click.option("--layers", multiple=True, metavar="NAME", help="Only these layers (repeatable)  [default: every convolution and pooling layer]")
@click.option("--out", type=click.Path(file_okay=False), help="Folder for the PNGs.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def visualize_activations(image, model, layers, out, as_json) -> None:
    """The channels of every convolution and pooling layer's output for IMAGE (5.25-5.31), one PNG per layer."""
    from dlcli import api

    result = api.visualize_activations(image, model, list(layers), out)
    if as_json:
        _print_json(result)
        return
    for layer, path in zip(result["layers"], result["files"]):
        click.echo(f"{layer}: {path}")


@visualize.command("filters")
@click.option("--model", "model", help=MODEL_HELP + "  [default: vgg16 without its classifier]")
@click.option("--layer", help="Convolution layer  [default: block3_conv1 for VGG, else the last one]")
@click.option("--filters", "count", type=int, default=64, show_default=True, help="How many filters, from the first.")
@click.option("--size", type=int, default=64, show_default=True, help="Pattern size in pixels (a run's model uses its own input size).")
@click.option("--steps", type=int, default=40, show_default=True, help="Gradient-ascent steps (step size 1, as 5.36).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the starting noise.")
@click.option("--out", type=click.Path(), help="The grid PNG, or a folder for it.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def visualize_filters(model, layer, count, size, steps, seed, out, as_json) -> None:
    """The input pattern each filter of a layer responds to most, as a grid (5.32-5.39).

    All the filters of the grid are optimised together as one batch."""
    from dlcli import api

    result = api.visualize_filters(model, layer, count, size, steps, out, seed)
    if as_json:
        _print_json(result)
        return
    click.echo(f"{result['filters']} filters of {result['layer']}: {result['file']}")


@visualize.command("augmentation")
@click.argument("image", type=click.Path())
@click.option("--experiment", default="cats-dogs-augment", show_default=True,
              help="Experiment (name, YAML file or run directory) whose augmentation layers to use.")
@click.option("--count", type=int, default=8, show_default=True, help="How many random variants.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="The grid PNG.")
def visualize_augmentation(image, experiment, count, seed, out) -> None:
    """IMAGE and random variants of it through an experiment's augmentation layers (5.12)."""
    from dlcli import api

    click.echo(api.visualize_augmentation(image, experiment, count, seed, out)["file"])


@cli.command()
@click.argument("run", type=click.Path())
@click.argument("inputs", nargs=-1)
@click.option("--csv", "csv_path", type=click.Path(), help="A series run: forecast from the last window of this CSV.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array on stdout.")
def predict(run, inputs, csv_path, as_json) -> None:
    """Predictions of RUN's model (a run directory, or a .keras file for images).

    \b
    dlcli predict RUN cat.jpg dog.png        an image classifier: class and probability
    dlcli predict RUN "a wonderful film"     a text model: tokenised with the run's vocabulary
    dlcli predict RUN --csv recent.csv       a series model: the forecast after the last window
    """
    from dlcli import api

    rows = api.predict(run, list(inputs), csv_path)
    if as_json:
        _print_json(rows)
        return
    if csv_path:
        row = rows[0]
        units = {k: v for k, v in row.items() if k.startswith("prediction_")}
        click.echo(f"{row['target']}, {row['rows_ahead']} rows after the last one: {row['prediction']:.4f} (normalised)"
                   + "".join(f", {v:.2f} {k.removeprefix('prediction_')}" for k, v in units.items()))
        return
    shown = [(r["input"] if len(r["input"]) <= 60 else r["input"][:57] + "...").replace("\n", " ") for r in rows]
    click.echo(_table([[text, r["class"], f"{r['probability']:.4f}"] for text, r in zip(shown, rows)],
                      ["INPUT", "CLASS", "PROBABILITY"]))


def main() -> None:
    """Console entry point: every error becomes one line on stderr and its exit code."""
    try:
        cli.main(prog_name="dlcli", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Exit as exit_:
        sys.exit(exit_.exit_code)
    except DlcliError as error:
        if _STATE["debug"]:
            raise
        for line in str(error).splitlines() or [type(error).__name__]:
            click.echo(f"error: {line}", err=True)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except SystemExit:
        raise
    except Exception as error:  # a bug: one line, the traceback only with --debug
        if _STATE["debug"]:
            raise
        click.echo(f"error: unexpected {type(error).__name__}: {error} (rerun with --debug for the traceback)", err=True)
        sys.exit(EXIT_RUN_FAILED)
