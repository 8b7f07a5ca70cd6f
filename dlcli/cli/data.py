"""`dlcli data`: the dataset cache: listing, downloading, importing, splitting."""

from __future__ import annotations

import click

from dlcli.cli.options import command, global_options, json_option, print_json, table, terminal_width


@click.group()
@global_options
def data() -> None:
    """Datasets: what is in the cache, downloading, importing files you already have."""


@command(data, "list")
@json_option
def data_list(as_json: bool) -> None:
    """Each dataset: present or missing, size, where it comes from."""
    from dlcli import api

    rows = api.data_list()
    if as_json:
        print_json({"datasets": rows})
        return
    shown = [[r["name"], "shipped" if r["shipped"] else "data.path" if r["external"] else
              ("present" if r["present"] else "missing"),
              f"{r['size_bytes'] / 1e6:.1f} MB" if r["size_bytes"] else "-", r["description"]] for r in rows]
    click.echo(table(shown, ["NAME", "STATUS", "SIZE", "DESCRIPTION"], terminal_width(), shrink={"DESCRIPTION": 20}))


@command(data, "download")
@click.argument("name")
@json_option
def data_download(name: str, as_json: bool) -> None:
    """Download dataset NAME into the cache (data/ or $DLCLI_DATA_DIR)."""
    from dlcli import api

    files = api.data_download(name)
    if as_json:
        print_json({"dataset": name, "files": files})
    else:
        for path in files:
            click.echo(path)


@command(data, "split")
@click.argument("name", metavar="cats-vs-dogs")
@click.argument("source", type=click.Path())
@click.option("--dest", type=click.Path(file_okay=False), help="Write here instead of the data cache (data/cats-vs-dogs).")
@click.option("--train", type=click.IntRange(min=0), default=1000, show_default=True, help="Images per class for training.")
@click.option("--validation", type=click.IntRange(min=0), default=500, show_default=True, help="Images per class for validation.")
@click.option("--test", type=click.IntRange(min=0), default=500, show_default=True, help="Images per class for test.")
@click.option("--shuffle", is_flag=True, help="Draw the images at random instead of by index (5.4 takes them by index).")
@click.option("--seed", type=int, default=None, help="Seed of --shuffle.")
@click.option("--overwrite", is_flag=True, help="Replace a non-empty destination.")
@json_option
def data_split(name, source, dest, train, validation, test, shuffle, seed, overwrite, as_json) -> None:
    """Build train/validation/test/{cats,dogs} from Kaggle's Dogs-vs-Cats train/ folder or zip.

    By default the first 1000/500/500 images of each class by index, as listing 5.4 does. Images
    that do not decode are skipped and reported; the source is never changed.
    """
    from dlcli import api

    report = api.data_split(name, source, dest, train, validation, test, shuffle, seed, overwrite,
                            progress=lambda line: click.echo(line, err=True))
    if as_json:
        print_json(report)
        return
    for split, counts in report["counts"].items():
        click.echo(f"{split}: " + ", ".join(f"{folder} {n}" for folder, n in counts.items()))
    if report["skipped"]:
        click.echo(f"skipped {len(report['skipped'])} file(s) that do not decode (listed above)")
    click.echo(f"written to {report['destination']}")


@command(data, "import")
@click.argument("name")
@click.argument("path", type=click.Path())
@json_option
def data_import(name: str, path: str, as_json: bool) -> None:
    """Check files you already have for dataset NAME and store them in the cache.

    \b
    mnist            mnist.npz, or a folder with the four IDX .gz files
    fashion_mnist    a folder with the four IDX .gz files
    imdb, reuters    Keras' imdb.npz / reuters.npz
    boston_housing   Keras' boston_housing.npz, or the CSV with columns CRIM ... MEDV
    cifar10          cifar-10-python.tar.gz
    text_file        nietzsche.txt, the book's corpus (8.2); any other text: data.path in the spec
    weights          keras.applications weight files as Keras caches them (a file, or ~/.keras/models)
    """
    from dlcli import api
    from dlcli.datasets.importing import summary

    result = api.data_import(name, path)
    if as_json:
        print_json(result)
        return
    click.echo(summary(result))
    if result["replaced"]:
        replaced = len(result["replaced"])
        click.echo("replaced the copy the cache held" if replaced == len(result["files"]) else
                   f"replaced the cached copy of {replaced} of these files")
    for stored in result["files"]:
        click.echo(stored)
