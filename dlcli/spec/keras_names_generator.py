"""Writes dlcli/spec/keras_names.py from the installed Keras: `python -m dlcli.spec.keras_names_generator`.

Imports Keras (unlike the tables it writes); tests/test_keras_names.py compares the two.
"""

from __future__ import annotations


# Not expressible in a YAML layer list: the base classes, Python code and other frameworks' models.
_NOT_LAYERS = ("FlaxLayer", "InputLayer", "JaxLayer", "Lambda", "Layer", "TFSMLayer", "TorchModuleWrapper",
               "Wrapper")
# Optimizers that wrap other optimizers, and their base class.
_NOT_OPTIMIZERS = ("LossScaleOptimizer", "MultiOptimizer", "Optimizer")
# The base class and the ones Keras adds itself (a spec cannot name them).
_NOT_CALLBACKS = ("Callback", "CallbackList", "History", "ProgbarLogger")
# Values for the arguments a layer needs, so that it can be made to try `padding` and `units`.
_FILLERS = {"filters": 4, "kernel_size": 3, "pool_size": 2, "units": 4, "input_dim": 10, "output_dim": 4}
_PADDINGS_TRIED = ("causal", "full", "same", "valid")
_POSITIVE_TRIED = ("filters", "input_dim", "output_dim", "units")
_WIDTH = 100


def _keyword_names(function) -> tuple[list[str], str | None]:
    """The names `function` takes by keyword (after self), and its **kwargs' name or None."""
    import inspect

    parameters = list(inspect.signature(function).parameters.values())[1:]
    named = [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    var_keyword = next((p.name for p in parameters if p.kind == p.VAR_KEYWORD), None)
    return named, var_keyword


def _kwargs_use(function, kwargs: str) -> tuple[set[str], bool]:
    """The keys `function` reads from its **kwargs (pop, get, [], in), and whether it passes
    them on to super().__init__."""
    import ast
    import inspect
    import textwrap

    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    is_kwargs = lambda node: isinstance(node, ast.Name) and node.id == kwargs  # noqa: E731
    keys, forwarded = set(), False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Attribute) and func.attr in ("pop", "get") and is_kwargs(func.value)
                    and node.args and isinstance(node.args[0], ast.Constant)):
                keys.add(node.args[0].value)
            if (isinstance(func, ast.Attribute) and func.attr == "__init__"
                    and isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name)
                    and func.value.func.id == "super"
                    and any(k.arg is None and is_kwargs(k.value) for k in node.keywords)):
                forwarded = True
        elif (isinstance(node, ast.Subscript) and is_kwargs(node.value)
              and isinstance(node.slice, ast.Constant)):
            keys.add(node.slice.value)
        elif (isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant) and len(node.ops) == 1
              and isinstance(node.ops[0], (ast.In, ast.NotIn)) and is_kwargs(node.comparators[0])):
            keys.add(node.left.value)
    return {key for key in keys if isinstance(key, str)}, forwarded


def constructor_arguments(cls, stop=None) -> tuple[set[str], bool]:
    """The keyword arguments `cls(...)` uses, walking the __init__ of its classes as Keras does: a
    class's **kwargs go on to the next __init__ in the MRO when it passes them to super().__init__;
    otherwise the chain ends there (it refuses or ignores the rest). With `stop`, the arguments
    stop's own __init__ takes are left out, and the flag says whether the chain reached it."""
    names: set[str] = set()
    classes = [c for c in cls.__mro__ if "__init__" in vars(c) and c is not object]
    for klass in classes:
        if klass is stop:
            return names, True
        named, kwargs = _keyword_names(vars(klass)["__init__"])
        names.update(named)
        if kwargs is None:
            break
        keys, forwarded = _kwargs_use(vars(klass)["__init__"], kwargs)
        names.update(keys)
        if not forwarded:
            break
    return names, False


def _quietly(make):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            make()
        except Exception:  # noqa: BLE001 - any refusal counts
            return False
    return True


def _required(cls) -> dict | None:
    """Filler values for the arguments `cls` needs, or None when one has no filler."""
    import inspect

    required = {p.name for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
                if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    if not required <= set(_FILLERS):
        return None
    return {name: _FILLERS[name] for name in required}


def _paddings(keras, cls) -> tuple[str, ...] | None:
    """The `padding` strings cls accepts, when it refuses some (None otherwise): tried in the
    constructor, or where that takes anything, on a symbolic input of the rank its name says."""
    import re

    base = _required(cls)
    if base is None:
        return None
    make = lambda padding: cls(**{**base, "padding": padding})  # noqa: E731
    if _quietly(lambda: make("not_a_padding")):
        rank = re.search(r"([123])D", cls.__name__)
        if rank is None:
            return None
        shape = (8,) * int(rank.group(1)) + (2,)
        make = lambda padding: cls(**{**base, "padding": padding})(keras.Input(shape))  # noqa: E731
        if _quietly(lambda: make("not_a_padding")):
            return None
    return tuple(padding for padding in _PADDINGS_TRIED if _quietly(lambda: make(padding))) or None


def _positive(cls, arguments: set[str]) -> tuple[str, ...]:
    """The integer arguments cls's constructor refuses at 0 and -1 but takes at 4."""
    base = _required(cls)
    if base is None:
        return ()
    return tuple(name for name in _POSITIVE_TRIED if name in arguments
                 and _quietly(lambda: cls(**{**base, name: 4}))
                 and not _quietly(lambda: cls(**{**base, name: 0}))
                 and not _quietly(lambda: cls(**{**base, name: -1})))


def generate(keras) -> dict:
    """Every table of this module, computed from the installed Keras."""
    import inspect


    classes = {name: getattr(keras.layers, name) for name in dir(keras.layers)}
    classes = {name: cls for name, cls in classes.items() if inspect.isclass(cls)
               and issubclass(cls, keras.layers.Layer) and name not in _NOT_LAYERS}
    canonical = {}  # one name per class: its own when exported, else the first alias
    for name, cls in sorted(classes.items()):
        canonical.setdefault(cls, cls.__name__ if classes.get(cls.__name__) is cls else name)
    base, _ = constructor_arguments(keras.layers.Layer)
    layer_arguments, reaches_base, paddings, positive = {}, {}, {}, {}
    for cls, name in sorted(canonical.items(), key=lambda item: item[1]):
        own, reached = constructor_arguments(cls, stop=keras.layers.Layer)
        layer_arguments[name] = own - base if reached else own
        reaches_base[name] = reached
        arguments = own | base if reached else own
        if "padding" in arguments and (allowed := _paddings(keras, cls)):
            paddings[name] = allowed
        if found := _positive(cls, arguments):
            positive[name] = found
    optimizers = {name.lower() for name in dir(keras.optimizers)
                  if inspect.isclass(getattr(keras.optimizers, name))
                  and issubclass(getattr(keras.optimizers, name), keras.optimizers.Optimizer)
                  and name not in _NOT_OPTIMIZERS}
    callbacks = {name: constructor_arguments(cls)[0] for name in dir(keras.callbacks)
                 if inspect.isclass(cls := getattr(keras.callbacks, name)) and issubclass(cls, keras.callbacks.Callback)
                 and name not in _NOT_CALLBACKS}
    schedules = {name: constructor_arguments(cls)[0] for name in dir(keras.optimizers.schedules)
                 if inspect.isclass(cls := getattr(keras.optimizers.schedules, name))
                 and issubclass(cls, keras.optimizers.schedules.LearningRateSchedule)
                 and cls is not keras.optimizers.schedules.LearningRateSchedule}
    from keras.src import activations, constraints, initializers, regularizers

    return {
        "version": keras.__version__,
        "LAYERS": set(classes),
        "OPTIMIZERS": optimizers,
        "LAYER_BASE_ARGUMENTS": base,
        "LAYER_ARGUMENTS": {name: (reaches_base[name], args) for name, args in layer_arguments.items()},
        "LAYER_ALIASES": {name: canonical[cls] for name, cls in classes.items() if canonical[cls] != name},
        "CALLBACK_ARGUMENTS": callbacks,
        "SCHEDULE_ARGUMENTS": schedules,
        "ACTIVATIONS": {name for name in activations.ALL_OBJECTS_DICT
                        if _quietly(lambda: activations.get(name))},
        "INITIALIZERS": set(initializers.ALL_OBJECTS_DICT),
        "REGULARIZERS": set(regularizers.ALL_OBJECTS_DICT),
        "CONSTRAINTS": set(constraints.ALL_OBJECTS_DICT),
        "PADDINGS": paddings,
        "POSITIVE_INTEGERS": positive,
    }


def _pack(items, indent: str, last: str = "") -> list[str]:
    """The items comma separated, wrapped at _WIDTH columns, `last` after the last one."""
    lines, line = [], ""
    for index, item in enumerate(items):
        piece = item + ("," if index < len(items) - 1 else last)
        if line and len(indent) + len(line) + 1 + len(piece) > _WIDTH:
            lines.append(indent + line)
            line = piece
        else:
            line = f"{line} {piece}" if line else piece
    return [*lines, indent + line]


def _names(values) -> list[str]:
    return [repr(value) for value in sorted(values)]


def _frozenset(name: str, values, comment: str) -> list[str]:
    return [f"# {comment}", f"{name} = frozenset((", *_pack(_names(values), "    ", last=","), "))", ""]


def _dict(name: str, rows: dict, comment: str, splat=lambda key: False) -> list[str]:
    lines = [f"# {comment}", f"{name} = {{"]
    for key in sorted(rows):
        items = (["*LAYER_BASE_ARGUMENTS"] if splat(key) else []) + _names(rows[key])
        one = f"    {key!r}: ({', '.join(items)}{',' if len(items) == 1 else ''}),"
        if len(one) > _WIDTH:
            one = "\n".join([f"    {key!r}: (", *_pack(items, "        ", last=","), "    ),"])
        lines.append(one)
    return [*lines, "}", ""]


def render(tables: dict) -> str:
    """The generated part of this module's text."""
    layers = tables["LAYER_ARGUMENTS"]
    lines = [
        '"""Names and constructor arguments of Keras 3 layers, callbacks, optimizers, activations... so a',
        "spec is checked without importing Keras.",
        "",
        f"Generated from keras {tables['version']} by `python -m dlcli.spec.keras_names_generator`, which rewrites",
        "this file from the installed Keras;",
        "tests/test_keras_names.py fails when the installed Keras gives different tables.",
        "Lambda, InputLayer and the framework wrappers are left out: a YAML spec cannot express them.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        *_frozenset("LAYERS", tables["LAYERS"], "keras.layers classes a spec may name."),
        *_frozenset("OPTIMIZERS", tables["OPTIMIZERS"], "keras.optimizers classes, lower-cased."),
        "# What Layer.__init__ takes (its own and the legacy input_shape/input_dim it pops); a layer takes",
        "# them when its **kwargs reach it.",
        "LAYER_BASE_ARGUMENTS = (",
        *_pack(_names(tables["LAYER_BASE_ARGUMENTS"]), "    ", last=","),
        ")",
        "",
        *_dict("_LAYER_ARGUMENTS", {name: args for name, (_, args) in layers.items()},
               "The arguments each layer class takes through the __init__ of its classes (one name a class).",
               splat=lambda name: layers[name][0]),
        "# Other names of the same classes (Convolution2D is Conv2D).",
        "LAYER_ALIASES = {",
        *_pack([f"{alias!r}: {name!r}" for alias, name in sorted(tables["LAYER_ALIASES"].items())], "    ",
               last=","),
        "}",
        "",
        *_dict("_CALLBACK_ARGUMENTS", tables["CALLBACK_ARGUMENTS"],
               "The arguments of each Keras callback (keras.callbacks)."),
        *_dict("_SCHEDULE_ARGUMENTS", tables["SCHEDULE_ARGUMENTS"],
               "The arguments of each learning-rate schedule (keras.optimizers.schedules)."),
        *_frozenset("ACTIVATIONS", tables["ACTIVATIONS"], "Strings keras.activations.get accepts."),
        *_frozenset("INITIALIZERS", tables["INITIALIZERS"], "Initializer names (keras.initializers.get)."),
        *_frozenset("REGULARIZERS", tables["REGULARIZERS"], "Regularizer names (keras.regularizers.get)."),
        *_frozenset("CONSTRAINTS", tables["CONSTRAINTS"], "Constraint names (keras.constraints.get)."),
        *_dict("_PADDINGS", tables["PADDINGS"],
               "The `padding` strings a layer accepts, where it refuses others (compared lower-cased)."),
        *_dict("_POSITIVE_INTEGERS", tables["POSITIVE_INTEGERS"],
               "Integer arguments a layer's constructor refuses at 0 and below."),
        "",
        "def _by_layer(table: dict) -> dict:",
        '    """`table` keyed by every layer name, aliases included."""',
        "    return {name: table[LAYER_ALIASES.get(name, name)] for name in LAYERS",
        "            if LAYER_ALIASES.get(name, name) in table}",
        "",
        "",
        "LAYER_ARGUMENTS = _by_layer({name: frozenset(args) for name, args in _LAYER_ARGUMENTS.items()})",
        "CALLBACK_ARGUMENTS = {name: frozenset(args) for name, args in _CALLBACK_ARGUMENTS.items()}",
        "SCHEDULE_ARGUMENTS = {name: frozenset(args) for name, args in _SCHEDULE_ARGUMENTS.items()}",
        "PADDINGS = _by_layer({name: frozenset(values) for name, values in _PADDINGS.items()})",
        "POSITIVE_INTEGERS = _by_layer(_POSITIVE_INTEGERS)",
        "",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Rewrite keras_names.py from the installed Keras."""
    from pathlib import Path

    from dlcli.backend import import_keras

    path = Path(__file__).with_name("keras_names.py")
    path.write_text(render(generate(import_keras())).rstrip("\n") + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
