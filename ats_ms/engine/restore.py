"""From a checkpoint to the network it holds: the one path that eval, export, analyze, the teacher of a run and
the twin take.

The network is built the way the checkpoint was trained: its variant (the model-zoo demo's ResNet padding and
bias-free VGG, ``ats_ms.models.variants``) is read from the checkpoint unless the config sets one; a MindSpore
checkpoint without ats_ms's metadata is read as the model-zoo demo wrote it (``ats_ms.interop.demo``); and a
network trained on other input statistics (the config's ``mean``/``std``, else what the checkpoint records:
converted published networks record theirs) is fed its own, behind the exact map from the pipeline's
(``ats_ms.models.normalization``).
"""
from dataclasses import dataclass, field
from typing import List

import mindspore as ms

from ats_ms.data.constants import NUM_CLASSES
from ats_ms.engine import checkpoint as ckpt
from ats_ms.common.errors import CheckpointError
from ats_ms.interop import demo
from ats_ms.common.model_names import CLASSIFIER_WEIGHTS
from ats_ms.models import build_options, create_model, normalization, variants

KNOWN_CLASSES = dict(NUM_CLASSES, digits=10)  # datasets whose class count is known without reading them


@dataclass
class Restored:
    net: object              # in inference mode; behind the normalisation map when one was needed
    classes: int
    options: dict            # the build options (variant) it was built with
    notes: List[str] = field(default_factory=list)   # lines for the log: demo checkpoint read, inputs re-mapped


def classes_in_file(meta, params):
    """The class count a checkpoint records, else the rows of its classifier, else None."""
    if meta.get("num_classes"):
        return int(meta["num_classes"])
    for name, value in params.items():
        if name.endswith(CLASSIFIER_WEIGHTS) and len(value.shape) == 2:
            return int(value.shape[0])
    return None


def trained_normalization(section, meta):
    """(mean, std) a network was trained with: the config section's explicit ``mean``/``std``, else what its
    checkpoint records, else None (the run's own pipeline)."""
    if section.mean is not None:
        return tuple(section.mean), tuple(section.std)
    return normalization.recorded(meta)


def build_as_trained(arch, classes, meta, explicit, from_demo, in_channels=None):
    """``arch`` with ``classes`` outputs, built as the checkpoint whose metadata is ``meta`` was trained: the options
    of ``explicit`` (a config's or a command's), else those ``meta`` records, else the model-zoo demo's variant for a
    file the demo wrote (``from_demo``), else the references'.  Returns (network, options); ``convert`` builds the
    networks it fills this way too."""
    options = variants.resolve(build_options(arch), explicit, meta, from_demo)
    net = create_model(arch, classes, in_channels=in_channels or int(meta.get("in_channels", 3)), **options)
    return net, options


def restore_network(path, arch, section, classes, in_channels=None, pipeline=None, what="checkpoint", read=None):
    """The network of ``path`` (``arch``, ``classes`` outputs), configured by ``section`` (the ``model`` or
    ``teacher`` section: ``padding``, ``conv_bias``, ``mean``, ``std``).  ``pipeline``: the (mean, std) of the data
    it will be fed.  ``read``: the file's (meta, params) when the caller has read it already."""
    meta, params = read or ckpt.read_meta(path, what)
    from_demo = not demo.is_ats_checkpoint(meta)
    net, options = build_as_trained(arch, classes, meta, variants.configured(section), from_demo, in_channels)
    notes = []
    if from_demo:
        arrays = demo.network_arrays(params)
        filled = demo.fill_missing_biases(arrays, net)
        params = {k: ms.Tensor(v) for k, v in arrays.items()}
        built = variants.summary(options, only_changes=True) or "the references' variant"
        notes.append(f"{what} {path} has no ats_ms metadata: read as a model-zoo demo checkpoint ({built}"
                     f"{', zero conv biases added' if filled else ''}). Convert it once with 'python -m "
                     f"ats_ms.convert --arch {arch} --input {path} --output converted.ckpt' to record this, or set "
                     "padding / conv_bias in the config to override.")
    ckpt.load_weights(net, path, what, arch, params=params)
    net.set_train(False)
    trained = trained_normalization(section, meta)
    if pipeline is not None and trained is not None:
        fed = normalization.fed_as_trained(net, pipeline, trained)
        if fed is not net:
            source = "the config's mean / std" if section.mean is not None else f"{path} records"
            notes.append(f"the network of {what} {path} was trained on inputs normalised with mean {_fmt(trained[0])} "
                         f"std {_fmt(trained[1])} ({source}); it gets the pipeline's inputs (mean {_fmt(pipeline[0])} std "
                         f"{_fmt(pipeline[1])}) through the exact per-channel map between the two, in the graph")
            net = fed
            net.set_train(False)
    return Restored(net, classes, options, notes)


def network_from_checkpoint(cfg, path, num_classes=None, arch=None, pipeline=None):
    """The evaluated network of eval, export and analyze: ``model.arch`` (or ``arch``) with ``num_classes``
    (explicit, else the config's, else the dataset's), which the checkpoint must agree with."""
    arch = arch or cfg.model.arch
    meta, params = ckpt.read_meta(path, "checkpoint")
    in_file = classes_in_file(meta, params)
    expected = num_classes or cfg.model.num_classes or KNOWN_CLASSES.get(cfg.data.name)
    if expected and in_file and expected != in_file:
        raise CheckpointError(f"The checkpoint '{path}' has a {in_file}-class classifier but the config expects "
                              f"{expected} classes ({'model.num_classes' if cfg.model.num_classes else cfg.data.name}). "
                              "Use the config the checkpoint was trained with (its run folder's config.yaml), or set "
                              "model.num_classes to match.")
    classes = expected or in_file
    if not classes:
        from ats_ms.data import get_source  # pylint: disable=import-outside-toplevel
        classes = get_source(cfg.data, "test").num_classes
    return restore_network(path, arch, cfg.model, classes, pipeline=pipeline, read=(meta, params))


def teacher_network(cfg, num_classes, pipeline=None, in_channels=3):
    """The teacher of a distillation run (``teacher.arch`` from ``teacher.checkpoint``), before it is frozen."""
    return restore_network(cfg.teacher.checkpoint, cfg.teacher.arch, cfg.teacher, num_classes, in_channels, pipeline,
                           what="teacher checkpoint")


def _fmt(values):
    return "(" + ", ".join(f"{v:g}" for v in values) + ")"
