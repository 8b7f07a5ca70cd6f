"""Chapter 8's generations from trained runs: one module each (text, latent grid, images), functions
from a run and options to the files they write into its `samples/` folder. Keras is imported only
inside the functions that need it.

What every `dlcli generate` command shares is here: the run it reads, the model of the kind it
needs, and a picture written into the run's samples/ (or --out)."""

from __future__ import annotations

from dlcli.errors import UsageError
from dlcli.runs import Run, layout


def trained_run(reference: str) -> Run:
    """RUN of a generate command (a run directory, or an experiment's latest completed run), opened
    to add to its samples/ only, on the backend it trained on unless --backend says otherwise."""
    from dlcli.backend import use_recorded

    run = Run.open(Run.find(reference, "RUN").path, draws=True)
    use_recorded(run.info)
    return run


def model_of_kind(run: Run, kind: str, command: str, example: str):
    """The run's model, refused in one line when it is not of `kind` (`command` needs one)."""
    from dlcli.models.saving import load_model

    model_type = run.spec().model.type
    if model_type != kind:
        raise UsageError(f"{run}: a '{model_type}' model, not a {kind}; {command} needs a run of a model of type "
                         f"{kind} (e.g. {example})")
    return load_model(run.model_path())


def write_picture(run: Run, placement, target, image, picture: str) -> None:
    """A generated picture at `target`: the run's samples/ (made through the run's own rules) unless
    --out named a file."""
    from dlcli.outputs import write_image

    if placement.file is None:
        run.output(layout.SAMPLES)
    write_image(target, image, picture)
