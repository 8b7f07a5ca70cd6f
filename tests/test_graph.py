"""`type: graph` models (7.1): named nodes, shared layers, blocks, several inputs and outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import HANG_GUARD_S, write

QA = """
description: two inputs, one output
data:
  name: random
  num_samples: 64
  num_test: 16
  inputs:
    text: {shape: [12], distribution: integers, low: 1, high: 10000}
    question: {shape: [12], distribution: integers, low: 1, high: 10000}
  targets:
    answer: {onehot: 500}
model:
  type: graph
  inputs:
    text: {shape: [null], dtype: int32}
    question: {shape: [null], dtype: int32}
  nodes:
    - {name: text_embedded, layer: Embedding, args: {input_dim: 10000, output_dim: 64}, inputs: [text]}
    - {name: text_encoded, layer: LSTM, args: {units: 32}, inputs: [text_embedded]}
    - {name: question_embedded, layer: Embedding, args: {input_dim: 10000, output_dim: 32}, inputs: [question]}
    - {name: question_encoded, layer: LSTM, args: {units: 16}, inputs: [question_embedded]}
    - {name: merged, layer: Concatenate, args: {axis: -1}, inputs: [text_encoded, question_encoded]}
    - {name: answer, layer: Dense, args: {units: 500, activation: softmax}, inputs: [merged]}
  outputs:
    answer: {loss: categorical_crossentropy, loss_weight: 1.0, metrics: [acc]}
compile: {optimizer: rmsprop}
fit: {epochs: 1, batch_size: 32}
"""

RESIDUAL = """
description: residual blocks on the digits
data: {name: digits, train_samples: 200, test_samples: 50}
model:
  type: graph
  inputs:
    image: {shape: [8, 8, 1]}
  blocks:
    residual:
      params: {filters: null, kernel: 3}
      inputs: [x]
      nodes:
        - {name: conv_a, layer: Conv2D, args: {filters: $filters, kernel_size: $kernel, padding: same, activation: relu}, inputs: [x]}
        - {name: conv_b, layer: Conv2D, args: {filters: $filters, kernel_size: $kernel, padding: same}, inputs: [conv_a]}
        - {name: sum, layer: Add, inputs: [conv_b, x]}
      output: sum
  nodes:
    - {name: stem, layer: Conv2D, args: {filters: 8, kernel_size: 3, padding: same}, inputs: [image]}
    - {name: res1, block: residual, params: {filters: 8}, inputs: [stem]}
    - {name: res2, block: residual, params: {filters: 8, kernel: 1}, inputs: [res1]}
    - {name: pooled, layer: GlobalAveragePooling2D, inputs: [res2]}
    - {name: digit, layer: Dense, args: {units: 10, activation: softmax}, inputs: [pooled]}
  outputs:
    digit:
compile: {optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}
fit: {epochs: 1, batch_size: 32}
"""


# ----------------------------------------------------------------------------- found by validate


GRAPH_ERRORS = [
    # (spec, what is changed, the message, its line)
    (QA, "inputs: [text_embedded]}", "inputs: [text_embeded]}",
     "model.nodes[1]: unknown input 'text_embeded' (did you mean 'text_embedded'?)", 18),
    (QA, "    answer: {loss", "    answr: {loss", "model.outputs.answr: no node named 'answr' (did you mean 'answer'?)", 24),
    (QA, "units: 32}, inputs: [text_embedded]", "units: 32}, inputs: [answer]",
     "model.nodes[1]: the nodes text_encoded -> answer -> merged -> text_encoded form a cycle", 18),
    (QA, "inputs: [text_encoded, question_encoded]", "inputs: [text_encoded, text_encoded]",
     "model.nodes[3]: node 'question_encoded' is not used by any output (outputs: answer)", 20),
    (QA, "inputs: [question_embedded]}", "inputs: [question_embedded]}\n    - {name: text, layer: Dense, inputs: [merged]}",
     "the name 'text' is used twice", 21),
    (QA, "{name: question_encoded, layer: LSTM, args: {units: 16}",
     "{name: question_encoded, share: text_encodd", "`share` names a node with a `layer`: no such node 'text_encodd' "
     "(did you mean 'text_encoded'?)", 20),
    (QA, "layer: LSTM, args: {units: 16}", "layer: LSTN, args: {units: 16}", "unknown layer 'LSTN' (did you mean 'LSTM'?)", 20),
    (QA, "args: {units: 32}", "args: {unit: 32}", "LSTM: unknown argument 'unit' (did you mean 'units'?)", 18),
    (QA, "answer: {loss: categorical_crossentropy, loss_weight: 1.0, metrics: [acc]}", "answer: {metrics: [acc]}",
     "compile.loss is required", None),
    (RESIDUAL, "block: residual, params: {filters: 8}", "block: residul, params: {filters: 8}",
     "model.nodes[1]: no block named 'residul' (did you mean 'residual'?)", 18),
    (RESIDUAL, "params: {filters: 8}", "params: {filtres: 8}", "block 'residual' has no parameter 'filtres' "
     "(did you mean 'filters'?)", 18),
    (RESIDUAL, "params: {filters: 8}", "params: {}", "block 'residual' needs the parameter 'filters'", 18),
    (RESIDUAL, "kernel_size: $kernel, padding: same}", "kernel_size: $kernal, padding: same}",
     "block 'residual', node 'conv_b': '$kernal' is not a parameter of the block", 18),
    (RESIDUAL, "inputs: [conv_b, x]", "inputs: [conv_b, y]",
     "block 'residual', node 'sum': unknown input 'y'", 18),
    (RESIDUAL, "- {name: sum, layer: Add, inputs: [conv_b, x]}",
     "- {name: sum, block: residual, params: {filters: 8}, inputs: [conv_b]}", "block 'residual' contains itself", 18),
    (RESIDUAL, "      output: sum", "      output: summ", "output 'summ' is none of its nodes (did you mean 'sum'?)", 18),
    (RESIDUAL, "inputs: [stem]}", "inputs: [stem, image]}", "block 'residual' takes 1 input(s) (x), got 2", 18),
]


@pytest.mark.parametrize("spec,old,new,message,line", GRAPH_ERRORS, ids=[case[3][:40] for case in GRAPH_ERRORS])
def test_graph_problems_are_found_by_validate(run_cli, workdir, spec, old, new, message, line):
    assert old in spec
    path = write(workdir / "g.yaml", spec.replace(old, new, 1))
    result = run_cli("validate", str(path))
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    if line is not None:
        assert f"g.yaml:{line}: " in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_an_unused_input_is_named(run_cli, workdir):
    spec = QA.replace("inputs: [question]}", "inputs: [text]}")
    result = run_cli("validate", str(write(workdir / "g.yaml", spec)))
    assert result.exit_code == 2 and "model.inputs.question: input 'question' is not used by any node" in result.stderr


def test_graph_experiments_validate(run_cli):
    for name in ("functional-api-demo", "qa-two-inputs", "siamese-shared-lstm"):
        assert run_cli("validate", name).exit_code == 0, name


# ----------------------------------------------------------------------------- built and trained


def built(workdir: Path, text: str):
    from dlcli.datasets import load
    from dlcli.spec import load_spec
    from dlcli.training.building import build_checked

    spec, _ = load_spec(str(write(workdir / "g.yaml", text)))
    return build_checked(spec, load(spec.data))


@pytest.mark.training
def test_the_qa_model_has_the_books_parameters(workdir):
    model = built(workdir, QA)
    # 7.1-7.2: Embedding 640,000 + LSTM 12,416 + Embedding 320,000 + LSTM 3,136 + Dense 24,500
    assert model.count_params() == 1_000_052
    assert sorted(t.name for t in model.inputs) == ["question", "text"]


@pytest.mark.training
def test_a_shared_layer_is_one_set_of_weights(workdir):
    spec = QA.replace("{name: question_encoded, layer: LSTM, args: {units: 16}",
                      "{name: question_encoded, share: text_encoded").replace("output_dim: 32", "output_dim: 64")
    model = built(workdir, spec)
    lstms = [layer for layer in model.layers if layer.__class__.__name__ == "LSTM"]
    assert len(lstms) == 1 and model.count_params() == 640_000 + 12_416 + 640_000 + 64 * 500 + 500


@pytest.mark.training
def test_blocks_are_instantiated_with_their_parameters(workdir):
    model = built(workdir, RESIDUAL)
    names = [layer.name for layer in model.layers]
    assert ["res1.conv_a", "res1.conv_b", "res1.sum", "res2.conv_a", "res2.conv_b", "res2.sum"] == \
        [name for name in names if name.startswith("res")]
    assert model.get_layer("res1.conv_a").kernel_size == (3, 3) and model.get_layer("res2.conv_a").kernel_size == (1, 1)


@pytest.mark.training
def test_a_shape_that_does_not_fit_names_the_node_and_line(run_cli, workdir):
    spec = write(workdir / "g.yaml", QA.replace("layer: Concatenate, args: {axis: -1}", "layer: Add"))
    result = run_cli("train", str(spec))
    assert result.exit_code == 2 and result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "g.yaml:21: model.nodes[4]: node 'merged': " in result.stderr  # then Keras' own reason
    assert not (workdir / "runs").exists() or not list((workdir / "runs").rglob("run.json"))


@pytest.mark.training
def test_inputs_named_unlike_the_data_are_refused(run_cli, workdir):
    spec = write(workdir / "g.yaml", QA.replace("    question: {shape: [null]", "    query: {shape: [null]").replace(
        "inputs: [question]}", "inputs: [query]}"))
    result = run_cli("train", str(spec))
    assert result.exit_code == 2 and "the model takes text, query but dataset gives text, question" in result.stderr


@pytest.mark.training
def test_a_multi_output_run_reports_each_output(run_cli, workdir):
    spec = write(workdir / "heads.yaml", """
        description: the digit and its parity, two heads with loss weights
        data:
          name: digits
          train_samples: 300
          test_samples: 96  # whole batches: Keras averages the total loss per batch
          heads:
            digit: classes
            parity: {even: [0, 2, 4, 6, 8], odd: [1, 3, 5, 7, 9]}
        model:
          type: graph
          inputs: {image: {shape: [8, 8, 1]}}
          nodes:
            - {name: flat, layer: Flatten, inputs: [image]}
            - {name: hidden, layer: Dense, args: {units: 32, activation: relu}, inputs: [flat]}
            - {name: digit, layer: Dense, args: {units: 10, activation: softmax}, inputs: [hidden]}
            - {name: parity, layer: Dense, args: {units: 2, activation: softmax}, inputs: [hidden]}
          outputs:
            digit: {loss_weight: 1.0}
            parity: {loss: categorical_crossentropy, loss_weight: 0.5, metrics: [accuracy, auc]}
        compile: {optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}
        fit: {epochs: 2, batch_size: 32, validation: {kind: split, fraction: 0.2}}
        callbacks:  # an output's own metric: Keras cannot tell its direction, dlcli does from its name
          - EarlyStopping: {monitor: val_parity_accuracy, patience: 3}
          - ModelCheckpoint: {monitor: val_digit_loss}
        """)
    result = run_cli("train", str(spec), "--json")
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)
    metrics, run = output["metrics"], Path(output["run_dir"])
    for key in ("test_digit_accuracy", "test_parity_accuracy", "test_parity_auc", "final_val_digit_loss", "test_loss"):
        assert key in metrics, key
    assert "test_digit_auc" not in metrics  # each output has its own metrics
    # the total loss is the weighted sum of the outputs' losses
    assert metrics["test_loss"] == pytest.approx(metrics["test_digit_loss"] + 0.5 * metrics["test_parity_loss"], rel=1e-4)
    import cv2
    import numpy as np

    cv2.imwrite(str(workdir / "digit.png"), np.zeros((8, 8), np.uint8))
    predicted = json.loads(run_cli("predict", str(run), str(workdir / "digit.png"), "--json").stdout)["predictions"][0]
    assert set(predicted["heads"]) == {"digit", "parity"} and predicted["heads"]["parity"]["class"] in ("even", "odd")
    assert predicted["class"] == predicted["heads"]["digit"]["class"]


@pytest.mark.training
def test_a_run_describes_its_model(run_cli, workdir):
    from dlcli.models.describing import NO_DRAWING, can_draw

    result = run_cli("train", str(write(workdir / "qa.yaml", QA)), "--json")
    run = Path(json.loads(result.stdout)["run_dir"])
    config = json.loads((run / "model.json").read_text())
    assert config["class_name"] == "Functional" and \
        {"text", "question", "merged", "answer"} <= {layer["name"] for layer in config["config"]["layers"]}
    assert "1,000,052" in (run / "summary.txt").read_text()  # the book's count, in Keras' own summary
    files = json.loads((run / "run.json").read_text())["model_files"]
    if can_draw():
        assert files["plot"] == "model.png" and (run / "model.png").read_bytes()[:4] == b"\x89PNG"
    else:
        assert files["plot"] == NO_DRAWING and not (run / "model.png").exists()


@pytest.mark.training
def test_random_data_are_the_same_for_the_same_seed(workdir):
    from dlcli.datasets import load
    from dlcli.spec import load_spec

    spec, _ = load_spec(str(write(workdir / "g.yaml", QA)))
    first, second = load(spec.data), load(spec.data)
    assert first.train.x["text"].dtype == "int32" and first.train.x["text"].min() >= 1
    assert (first.train.x["text"] == second.train.x["text"]).all()
    assert first.train.y["answer"].shape == (64, 500) and (first.train.y["answer"].sum(axis=1) == 1).all()


@pytest.mark.training
def test_targets_that_do_not_fit_are_refused_before_any_run(run_cli, workdir):
    heads = """
        data: {name: digits, train_samples: 64, test_samples: 16, heads: {digit: classes, parity: {even: [0, 2, 4, 6, 8], odd: [1, 3, 5, 7, 9]}}}
        compile: {optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}
        fit: {epochs: 1, batch_size: 32}
        """
    sequential = write(workdir / "s.yaml", "description: heads on a stack\n" + heads.replace("        ", "") +
                       "model: {type: sequential, layers: [Flatten, {Dense: {units: 10, activation: softmax}}]}\n")
    result = run_cli("train", str(sequential))
    assert result.exit_code == 2 and "gives named targets (digit, parity): use a model of type graph" in result.stderr
    graph = write(workdir / "g.yaml", "description: a head of the wrong size\n" + heads.replace("        ", "") + """\
model:
  type: graph
  inputs: {image: {shape: [8, 8, 1]}}
  nodes:
    - {name: flat, layer: Flatten, inputs: [image]}
    - {name: digit, layer: Dense, args: {units: 10, activation: softmax}, inputs: [flat]}
    - {name: parity, layer: Dense, args: {units: 3, activation: softmax}, inputs: [flat]}
  outputs: {digit: {}, parity: {}}
""")
    result = run_cli("train", str(graph))
    assert result.exit_code == 2 and "model.outputs.parity: the node gives [3] per sample but its target is [2]" \
        in result.stderr
    assert not (workdir / "runs").exists()


def test_random_data_too_large_for_memory_is_refused(run_cli, workdir):
    spec = QA.replace("num_samples: 64", "num_samples: 1000000").replace("shape: [12], distribution", "shape: [1000], distribution", 1)
    result = run_cli("validate", str(write(workdir / "g.yaml", spec)))
    assert result.exit_code == 2 and "random values in all" in result.stderr


# ----------------------------------------------------------------------------- bounded expansion

BOMB_HEAD = """
description: blocks that multiply
data: {name: digits, train_samples: 50, test_samples: 20}
compile: {optimizer: adam, loss: categorical_crossentropy}
fit: {epochs: 1}
model:
  type: graph
  inputs: {image: {shape: [8, 8, 1]}}
"""


def multiplying(levels: int, fan: int) -> str:
    """Block b<i> is `fan` instances of b<i-1> in a row: fan ** levels layers in a few lines."""
    blocks = ["    b0: {inputs: [x], nodes: [{name: d, layer: Dense, args: {units: 4}, inputs: [x]}], output: d}"]
    for level in range(1, levels + 1):
        inner = ", ".join(f"{{name: p{j}, block: b{level - 1}, inputs: [{'x' if j == 0 else f'p{j - 1}'}]}}"
                          for j in range(fan))
        blocks.append(f"    b{level}: {{inputs: [x], nodes: [{inner}], output: p{fan - 1}}}")
    return BOMB_HEAD + "  blocks:\n" + "\n".join(blocks) + f"""
  nodes:
    - {{name: many, block: b{levels}, inputs: [image]}}
    - {{name: flat, layer: Flatten, inputs: [many]}}
    - {{name: digit, layer: Dense, args: {{units: 10, activation: softmax}}, inputs: [flat]}}
  outputs: {{digit: }}
"""


@pytest.mark.parametrize("levels,fan,bound", [
    (10, 4, "alone expands to 1,048,576"),  # 2**20 layers in 2 KB
    (4, 32, "alone expands to 1,048,576"),
    (19, 3, "alone expands to 1,162,261,467"),  # never ended before
    (20, 2, "blocks nest more than 20 deep"),
    (60, 2, "blocks nest more than 20 deep"),
])
def test_block_bombs_are_refused_before_expanding(run_cli, workdir, levels, fan, bound):
    import time

    path = write(workdir / "bomb.yaml", multiplying(levels, fan))
    started = time.perf_counter()
    result = run_cli("validate", "--no-cache", str(path))
    assert time.perf_counter() - started < HANG_GUARD_S  # killed at 60 s with 1.17 GB before
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "bomb.yaml:" in result.stderr and "model.nodes[0]" in result.stderr and bound in result.stderr


def test_the_layer_bound_can_be_raised(run_cli, workdir, monkeypatch):
    path = write(workdir / "sixteen.yaml", multiplying(4, 2))  # 16 layers in blocks, 2 more
    monkeypatch.setenv("DLCLI_MAX_LAYERS", "17")
    result = run_cli("validate", str(path))
    assert result.exit_code == 2 and "expands to 18 layers" in result.stderr and "DLCLI_MAX_LAYERS" in result.stderr
    monkeypatch.setenv("DLCLI_MAX_LAYERS", "18")
    assert run_cli("validate", str(path)).exit_code == 0  # the bound is part of the validate cache's key


def chain(length: int, reverse: bool) -> str:
    """A graph of `length` Dense layers, one after the other; written last to first with `reverse`."""
    nodes = [f"    - {{name: n{i}, layer: Dense, args: {{units: 4}}, inputs: [{'flat' if i == 0 else f'n{i - 1}'}]}}"
             for i in range(length - 2)]
    nodes = nodes[::-1] if reverse else nodes
    return BOMB_HEAD + "  nodes:\n    - {name: flat, layer: Flatten, inputs: [image]}\n" + "\n".join(nodes) + \
        f"\n    - {{name: digit, layer: Dense, args: {{units: 10}}, inputs: [n{length - 3}]}}\n  outputs: {{digit: }}\n"


@pytest.mark.parametrize("reverse", [False, True], ids=["in order", "last first"])
def test_a_10000_node_chain_validates_in_linear_time(run_cli, workdir, reverse):
    import time

    path = write(workdir / "chain.yaml", chain(10_000, reverse))
    started = time.perf_counter()
    result = run_cli("validate", "--no-cache", str(path))
    assert result.exit_code == 0, result.stderr
    assert time.perf_counter() - started < 15  # 27 s last-first before (quadratic ordering); about 1 s now


def test_a_block_that_contains_itself_is_still_named(run_cli, workdir):
    spec = RESIDUAL.replace("- {name: sum, layer: Add, inputs: [conv_b, x]}",
                            "- {name: sum, block: residual, params: {filters: 8}, inputs: [conv_b]}")
    result = run_cli("validate", str(write(workdir / "g.yaml", spec)))
    assert result.exit_code == 2 and "block 'residual' contains itself" in result.stderr


@pytest.mark.parametrize("old,new,where", [
    ("    image: {shape: [8, 8, 1]}", "    a/b: {shape: [8, 8, 1]}", "model.inputs.a/b"),
    ("    image: {shape: [8, 8, 1]}", "    res1.conv_a: {shape: [8, 8, 1]}", "model.inputs.res1.conv_a"),  # a block's layer
    ("    residual:\n", "    resid/ual:\n", "model.blocks.resid/ual"),
    ("      inputs: [x]\n", "      inputs: [x/1]\n", "model.blocks.residual"),
    ("params: {filters: null, kernel: 3}", "params: {filters: null, ker.nel: 3}", "model.blocks.residual"),
])
def test_names_keras_cannot_take_are_refused_by_validate(run_cli, workdir, old, new, where):
    assert old in RESIDUAL
    spec = RESIDUAL.replace(old, new, 1).replace("inputs: [image]", f"inputs: [{new.split(':')[0].strip()}]") \
        if "inputs.a/b" in where or "conv_a" in where else RESIDUAL.replace(old, new, 1)
    result = run_cli("validate", str(write(workdir / "g.yaml", spec)))
    assert result.exit_code == 2
    assert f"{where}:" in result.stderr and "use letters, digits and _" in result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr


@pytest.mark.training
def test_a_node_named_like_dlcli_own_input_layer_is_refused(run_cli, workdir):
    spec = RESIDUAL.replace("{name: pooled,", "{name: input_rescaling,").replace("inputs: [pooled]", "inputs: [input_rescaling]")
    result = run_cli("train", str(write(workdir / "g.yaml", spec)))
    assert result.exit_code == 2 and "model.nodes[3]: the name 'input_rescaling' is taken" in result.stderr
    assert not (workdir / "runs").exists() or not list((workdir / "runs").rglob("run.json"))


# ----------------------------------------------------------------------------- models too large for memory

SEQUENTIAL = """
description: a stack of Dense layers
data: {name: digits, train_samples: 50, test_samples: 20}
model:
  type: sequential
  layers:
    - Flatten
    - Dense: {units: 8}
    - Dense: {units: 10, activation: softmax}
compile: {optimizer: adam, loss: categorical_crossentropy}
fit: {epochs: 1}
"""
GRAPH_DENSE = "{name: digit, layer: Dense, args: {units: 10, activation: softmax}, inputs: [pooled]}"
SEQUENTIAL_DENSE = "    - Dense: {units: 8}\n"

TOO_LARGE = [
    # (spec, what is changed, where the one line points, the weights it names)
    (RESIDUAL, GRAPH_DENSE, "{name: a, layer: Dense, args: {units: 300000}, inputs: [pooled]}\n"
     "    - {name: b, layer: Dense, args: {units: 300000}, inputs: [a]}\n"
     "    - {name: digit, layer: Dense, args: {units: 10, activation: softmax}, inputs: [b]}",
     "model.nodes[5]", "90,000,300,000 weights (335.3 GiB)"),
    (RESIDUAL, GRAPH_DENSE, "{name: a, layer: Embedding, args: {input_dim: 100000000, output_dim: 64}, inputs: [pooled]}\n"
     "    - {name: digit, layer: Dense, args: {units: 10, activation: softmax}, inputs: [a]}",
     "model.nodes[4]", "6,400,000,000 weights (23.8 GiB)"),
    (SEQUENTIAL, SEQUENTIAL_DENSE, "    - Dense: {units: 300000}\n    - Dense: {units: 300000}\n",
     "model.layers[2]", "90,000,300,000 weights (335.3 GiB)"),
    (SEQUENTIAL, SEQUENTIAL_DENSE, "    - Dense: {units: 300000}\n    - Dropout: {rate: 0.5}\n    - LSTM: {units: 300000}\n",
     "model.layers[3]", "720,001,200,000 weights"),
]


@pytest.mark.parametrize("spec,old,new,where,weights", TOO_LARGE, ids=[case[3] for case in TOO_LARGE])
def test_a_model_too_large_for_memory_is_refused_by_validate(run_cli, workdir, spec, old, new, where, weights):
    assert old in spec
    path = write(workdir / "huge.yaml", spec.replace(old, new, 1))
    result = run_cli("validate", str(path))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "huge.yaml:" in result.stderr and where in result.stderr and weights in result.stderr
    assert "DLCLI_MAX_MODEL_BYTES" in result.stderr


# Sizes only the data tell: a Dense after a Flatten of 8x8 pixels (x 8 filters in the graph).
KNOWN_AT_BUILD = {
    "graph": (RESIDUAL.replace("{name: pooled, layer: GlobalAveragePooling2D,", "{name: pooled, layer: Flatten,").replace(
        GRAPH_DENSE, "{name: a, layer: Dense, args: {units: 3000000}, inputs: [pooled]}\n"
                     "    - {name: digit, layer: Dense, args: {units: 10, activation: softmax}, inputs: [a]}"),
              "model.nodes[4]: node 'a'", "1,539,000,000 weights (5.7 GiB)"),
    "sequential": (SEQUENTIAL.replace(SEQUENTIAL_DENSE, "    - Dense: {units: 30000000}\n"),
                   "model.layers[1]", "1,950,000,000 weights (7.3 GiB)"),
}


@pytest.mark.training
@pytest.mark.parametrize("kind", KNOWN_AT_BUILD)
def test_a_model_too_large_for_memory_is_refused_before_any_run(run_cli, workdir, monkeypatch, kind):
    import time

    spec, where, weights = KNOWN_AT_BUILD[kind]
    path = write(workdir / "huge.yaml", spec)
    assert run_cli("validate", str(path)).exit_code == 0  # only the data say how large it is
    started = time.perf_counter()
    result = run_cli("train", str(path))
    assert time.perf_counter() - started < 30  # no 6 GiB allocation tried
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and all(line.startswith("loading ") for line in lines if line not in errors)
    assert where in errors[0] and weights in errors[0] and "DLCLI_MAX_MODEL_BYTES" in errors[0]
    assert not (workdir / "runs").exists() or not list((workdir / "runs").rglob("run.json"))
    monkeypatch.setenv("DLCLI_MAX_MODEL_BYTES", str(8 * 2**30))  # the bound is the user's: raised, it passes validate
    assert run_cli("validate", str(path)).exit_code == 0
    monkeypatch.setenv("DLCLI_MAX_MODEL_BYTES", "1000")  # and a small one refuses a small layer
    result = run_cli("train", str(path))
    assert result.exit_code == 2 and "DLCLI_MAX_MODEL_BYTES=1000 bytes" in result.stderr


@pytest.mark.training
@pytest.mark.parametrize("layer,shape", [
    ({"Dense": {"units": 7}}, (5,)), ({"Dense": {"units": 7, "use_bias": False}}, (3, 5)),
    ({"Embedding": {"input_dim": 100, "output_dim": 8}}, (10,)),
    ({"Conv1D": {"filters": 6, "kernel_size": 5}}, (20, 4)), ({"Conv2D": {"filters": 6, "kernel_size": 3}}, (8, 8, 3)),
    ({"Conv2D": {"filters": 6, "kernel_size": [3, 2], "data_format": "channels_first"}}, (3, 8, 8)),
    ({"Conv2D": {"filters": 6, "kernel_size": 3, "groups": 3}}, (8, 8, 3)),
    ({"Conv3D": {"filters": 2, "kernel_size": 2}}, (4, 4, 4, 3)), ({"Conv2DTranspose": {"filters": 6, "kernel_size": 3}}, (8, 8, 3)),
    ({"SeparableConv2D": {"filters": 6, "kernel_size": 3}}, (8, 8, 3)), ({"SeparableConv1D": {"filters": 6, "kernel_size": 3}}, (8, 3)),
    ({"DepthwiseConv2D": {"kernel_size": 3, "depth_multiplier": 2}}, (8, 8, 3)),
    ({"LSTM": {"units": 9}}, (None, 5)), ({"GRU": {"units": 9}}, (None, 5)), ({"GRU": {"units": 9, "reset_after": False}}, (None, 5)),
    ({"SimpleRNN": {"units": 9}}, (None, 5)), ({"Bidirectional": {"layer": {"LSTM": {"units": 4}}}}, (None, 5)),
    ({"TimeDistributed": {"layer": {"Dense": {"units": 4}}}}, (6, 5)),
], ids=lambda value: next(iter(value)) if isinstance(value, dict) else str(value))
def test_weights_are_counted_as_keras_makes_them(layer, shape):
    from dlcli.backend import import_keras
    from dlcli.models.sequential import build_layer
    from dlcli.models.sizing import weight_count
    from dlcli.spec.entries import parse_layer

    keras = import_keras()
    entry = parse_layer(layer)
    built_layer = build_layer(entry, "model.layers[0]")
    built_layer(keras.Input(shape=shape))
    assert weight_count(entry, shape) == built_layer.count_params()


def test_ten_thousand_problems_are_reported_in_bounded_time_and_lines(run_cli, workdir):
    import re
    import time

    typos = re.sub(r"inputs: \[n(\d+)\]", lambda match: f"inputs: [m{match.group(1)}]", chain(10_000, reverse=False))
    started = time.perf_counter()
    result = run_cli("validate", str(write(workdir / "typos.yaml", typos)))
    assert time.perf_counter() - started < HANG_GUARD_S  # 136 s before: a did-you-mean against every name, for each
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 101 and lines[-1].endswith("and 9,898 more problems")
    assert "(did you mean 'n19'?)" in result.stderr  # the first ones still suggest
