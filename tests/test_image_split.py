"""`dlcli data split cats-vs-dogs` on a tiny Kaggle-like folder and zip made here with OpenCV."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import cache_contents

cv2 = pytest.importorskip("cv2", reason="opencv-python-headless writes the test images")


def kaggle_folder(root: Path, per_class: int = 10, corrupt: tuple[str, ...] = ("cat.3.jpg", "dog.6.jpg")) -> Path:
    """train/cat.N.jpg and dog.N.jpg (a few PNGs among them), with a corrupt JPEG and a non-image."""
    folder = root / "train"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for label in ("cat", "dog"):
        for index in range(per_class):
            image = (rng.random((16 + index, 24, 3)) * 255).astype("uint8")
            extension = "png" if index % 4 == 1 else "jpg"
            cv2.imwrite(str(folder / f"{label}.{index}.{extension}"), image)
    (folder / corrupt[0]).write_bytes(b"\xff\xd8\xff\xe0 truncated jpeg")
    (folder / corrupt[1]).write_text("this is not an image")
    (folder / "notes.txt").write_text("ignored: not a cat or a dog")
    return folder


def zip_train_folder(source: Path, archive_path: Path) -> Path:
    """Kaggle's train.zip: the folder's files under train/."""
    with zipfile.ZipFile(archive_path, "w") as archive:
        for path in source.iterdir():
            archive.write(path, f"train/{path.name}")
    return archive_path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def split(run_cli, *args):
    result = run_cli("data", "split", "cats-vs-dogs", *args)
    return result, (json.loads(result.stdout) if result.exit_code == 0 and "--json" in args else None)


def test_split_by_index_skips_and_reports_bad_files(run_cli, workdir):
    source = kaggle_folder(workdir / "kaggle")
    before = snapshot(source)
    result, report = split(run_cli, str(source), "--train", "4", "--validation", "2", "--test", "2", "--json")
    assert result.exit_code == 0, result.stderr
    destination = Path(report["destination"])
    assert destination == workdir / "data" / "cats-vs-dogs"  # the cache, where the experiments look
    names = {s: {c: sorted(p.name for p in (destination / s / c).iterdir()) for c in ("cats", "dogs")}
             for s in ("train", "validation", "test")}
    # cat.3 does not decode: cat.4 takes its place and everything after shifts by one (5.4's order).
    assert names["train"]["cats"] == ["cat.0.jpg", "cat.1.png", "cat.2.jpg", "cat.4.jpg"]
    assert names["validation"]["cats"] == ["cat.5.png", "cat.6.jpg"]
    assert names["test"]["cats"] == ["cat.7.jpg", "cat.8.jpg"]
    assert names["validation"]["dogs"] == ["dog.4.jpg", "dog.5.png"]
    assert names["test"]["dogs"] == ["dog.7.jpg", "dog.8.jpg"]
    assert report["counts"]["train"] == {"cats": 4, "dogs": 4}
    assert sorted(s["file"] for s in report["skipped"]) == ["cat.3.jpg", "dog.6.jpg"]
    assert "skipped cat.3.jpg" in result.stderr
    assert snapshot(source) == before  # the source is only read
    assert not list(destination.parent.glob(".cats-vs-dogs-partial-*"))


def test_shuffled_split_is_seeded(run_cli, workdir):
    source = kaggle_folder(workdir / "kaggle")
    trees = []
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        result, _ = split(run_cli, str(source), "--dest", str(workdir / name), "--train", "3",
                          "--validation", "1", "--test", "1", "--shuffle", "--seed", seed)
        assert result.exit_code == 0, result.stderr
        trees.append(sorted(str(p.relative_to(workdir / name)) for p in (workdir / name).rglob("*.*")))
    assert trees[0] == trees[1] != trees[2]


def test_non_empty_destination_is_refused_unless_overwrite(run_cli, workdir):
    source = kaggle_folder(workdir / "kaggle")
    taken = workdir / "taken"
    (taken / "keep.txt").parent.mkdir()
    (taken / "keep.txt").write_text("mine")
    result, _ = split(run_cli, str(source), "--dest", str(taken), "--train", "2", "--validation", "1", "--test", "1")
    assert result.exit_code == 2 and "--overwrite" in result.stderr
    assert (taken / "keep.txt").read_text() == "mine"
    result, _ = split(run_cli, str(source), "--dest", str(taken), "--train", "2", "--validation", "1",
                      "--test", "1", "--overwrite")
    assert result.exit_code == 0 and not (taken / "keep.txt").exists()
    assert len(list((taken / "train" / "dogs").iterdir())) == 2


def test_destination_inside_the_source_is_refused(run_cli, workdir):
    source = kaggle_folder(workdir / "kaggle")
    result, _ = split(run_cli, str(source), "--dest", str(source / "small"))
    assert result.exit_code == 2 and "never changed" in result.stderr


def test_too_few_images_exit_3_and_write_nothing(run_cli, workdir):
    source = kaggle_folder(workdir / "kaggle")
    result, _ = split(run_cli, str(source))  # the book's 1000/500/500 from 10 per class
    assert result.exit_code == 3 and "needs 2000 per class" in result.stderr
    assert not cache_contents(workdir / "data")


def test_zip_and_nested_zip_like_kaggles(run_cli, workdir):
    source = kaggle_folder(workdir / "kaggle")
    inner = zip_train_folder(source, workdir / "train.zip")
    outer = workdir / "dogs-vs-cats.zip"
    with zipfile.ZipFile(outer, "w") as archive:
        archive.write(inner, "train.zip")
        archive.writestr("sampleSubmission.csv", "id,label\n")
    for archive_path, name in ((inner, "from-zip"), (outer, "from-kaggle-zip")):
        result, report = split(run_cli, str(archive_path), "--dest", str(workdir / name), "--train", "4",
                               "--validation", "2", "--test", "2", "--json")
        assert result.exit_code == 0, result.stderr
        assert report["counts"]["test"] == {"cats": 2, "dogs": 2}
        assert sorted(p.name for p in (workdir / name / "train" / "cats").iterdir())[-1] == "cat.4.jpg"


def test_zip_member_outside_the_destination_is_refused(run_cli, workdir):
    source = kaggle_folder(workdir / "kaggle")
    evil = zip_train_folder(source, workdir / "evil.zip")
    with zipfile.ZipFile(evil, "a") as archive:
        archive.writestr("../../cat.999.jpg", (source / "cat.0.jpg").read_bytes())
    result, _ = split(run_cli, str(evil), "--dest", str(workdir / "out"), "--train", "2", "--validation", "1",
                      "--test", "1")
    assert result.exit_code == 3 and "outside the destination" in result.stderr
    assert not (workdir / "out").exists() and not (workdir.parent / "cat.999.jpg").exists()


def test_missing_source_and_unknown_split(run_cli, workdir):
    result, _ = split(run_cli, str(workdir / "nowhere"))
    assert result.exit_code == 2 and "no such file" in result.stderr
    result = run_cli("data", "split", "cats-vs-dgs", str(workdir))
    assert result.exit_code == 2 and "did you mean 'cats-vs-dogs'" in result.stderr


def test_a_source_inside_the_destination_is_refused(workdir, run_cli):
    source = workdir / "D" / "train"
    source.mkdir(parents=True)
    (source / "cat.0.jpg").write_bytes(b"x")
    result = run_cli("data", "split", "cats-vs-dogs", str(source), "--dest", str(workdir / "D"), "--overwrite")
    assert result.exit_code == 2 and "is inside --dest" in result.stderr
    assert (source / "cat.0.jpg").is_file()


# --------------------------------------------------------------------------- issue 14: every decoder behind the pixel guard


def png_declaring(path: Path, width: int, height: int) -> Path:
    """A PNG of a few bytes whose header declares width x height 1-bit pixels (a pixel bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b""))
                     + chunk(b"IEND", b""))
    return path


def hdr_declaring(path: Path, width: int, height: int) -> Path:
    """A Radiance .hdr header (a format OpenCV decodes and Pillow cannot read) declaring width x height."""
    path.write_bytes(b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n" + f"-Y {height} +X {width}\n".encode() + bytes(64))
    return path


BOMBS = {  # name -> (how it is made, what the one line says)
    "png-bomb": (lambda path: png_declaring(path.with_suffix(".png"), 3000, 3000), "3000x3000 pixels"),
    "hdr-bomb": (lambda path: hdr_declaring(path.with_suffix(".hdr"), 100_000, 100_000), "its header (and so its size) cannot be read"),
    "small-hdr": (lambda path: hdr_declaring(path.with_suffix(".hdr"), 20, 20), "its header (and so its size) cannot be read"),
}


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_predict_and_visualize_know_an_images_size_before_decoding(run_cli, workdir, monkeypatch, bomb):
    monkeypatch.setenv("DLCLI_MAX_IMAGE_PIXELS", "1000000")
    make, says = BOMBS[bomb]
    image = make(workdir / "image")
    result = run_cli("visualize", "gradcam", str(image))
    message = result.stderr.strip()
    assert result.exit_code == 2 and "\n" not in message and says in message and str(image) in message, message


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_data_split_skips_an_image_too_large_or_of_unknown_size_before_decoding(run_cli, workdir, monkeypatch, bomb):
    monkeypatch.setenv("DLCLI_MAX_IMAGE_PIXELS", "1000000")
    source = kaggle_folder(workdir / "kaggle", corrupt=("cat.8.jpg", "dog.8.jpg"))
    make, says = BOMBS[bomb]
    (source / "cat.0.jpg").unlink()
    make(source / "cat.0").rename(source / "cat.0.jpg")
    result, report = split(run_cli, str(source), "--train", "2", "--validation", "1", "--test", "1", "--json")
    assert result.exit_code == 0, result.stderr
    skipped = {row["file"]: row["reason"] for row in report["skipped"]}
    assert says in skipped["cat.0.jpg"]


def test_an_image_folder_with_a_pixel_bomb_is_refused_before_training(workdir, monkeypatch):
    from dlcli import datasets
    from dlcli.datasets import params as p
    from dlcli.errors import DataUnavailable

    monkeypatch.setenv("DLCLI_MAX_IMAGE_PIXELS", "1000000")
    for label in ("day", "night"):
        (workdir / "images" / label).mkdir(parents=True)
        for index in range(3):
            cv2.imwrite(str(workdir / "images" / label / f"{index}.png"), np.full((8, 8, 3), 40 * index, "uint8"))
    bomb = png_declaring(workdir / "images" / "night" / "9.png", 3000, 3000)
    with pytest.raises(DataUnavailable) as error:
        datasets.load(p.ImageFolderParams(name="image_folder", path=str(workdir / "images"), image_size=[8, 8]))
    assert str(bomb) in str(error.value) and "3000x3000 pixels" in str(error.value) and "\n" not in str(error.value)


def test_a_destination_that_cannot_be_written_is_one_line_exit_2(run_cli, workdir):
    source = kaggle_folder(workdir / "kaggle")
    (workdir / "a-file").write_text("in the way")
    result, _ = split(run_cli, str(source), "--dest", str(workdir / "a-file" / "split"), "--train", "2",
                      "--validation", "0", "--test", "0")
    message = result.stderr.strip()
    assert result.exit_code == 2 and "\n" not in message and "unexpected" not in message, message
    assert f"cannot write to {workdir / 'a-file'}" in message and "--dest" in message
    assert (workdir / "a-file").read_text() == "in the way"
