"""Rebuild a trained network from a config and a checkpoint (for eval, export and analysis).

The network is built the way the checkpoint was trained: its class count must agree with the config's
(``model.num_classes``, else the dataset's), and its variant (the model-zoo demo's ResNet padding and
bias-free VGG, ``ats_ms.models.variants``) is read from the checkpoint unless the config sets one.  A MindSpore checkpoint without ats_ms's metadata is
read as the model-zoo demo wrote it (``ats_ms.interop.demo``).
"""
import mindspore as ms

from ats_ms.data.constants import NUM_CLASSES
from ats_ms.engine import checkpoint as ckpt
from ats_ms.errors import CheckpointError
from ats_ms.model_names import CLASSIFIER_WEIGHTS
from ats_ms.interop import demo
from ats_ms.models import build_options, create_model, normalization, variants

KNOWN_CLASSES = dict(NUM_CLASSES, digits=10)  # datasets whose class count is known without reading them


def _classes_in_file(meta, params):
    if meta.get("num_classes"):
        return int(meta["num_classes"])
    for name, value in params.items():
        if name.endswith(CLASSIFIER_WEIGHTS) and len(value.shape) == 2:
            return int(value.shape[0])
    return None


def checkpoint_options(cfg, path, arch=None):
    """The variant (``ats_ms.models.variants``) a checkpoint's network is built with: configured, else what the
    checkpoint records, else the references'."""
    arch = arch or cfg.model.arch
    meta, _ = ckpt.read_meta(path, "checkpoint")
    return variants.resolve(build_options(arch), variants.configured(cfg.model), meta, not demo.is_ats_checkpoint(meta))


def network_from_checkpoint(cfg, path, num_classes=None, arch=None, pipeline=None, notes=None):
    """``num_classes``: explicit, else the config's, else the dataset's; the checkpoint must agree.

    ``pipeline``: the (mean, std) the data is normalised with.  A network trained with another normalisation
    (``model.mean``/``model.std``, else what its checkpoint records: converted published networks record
    theirs) is returned behind the exact map from one to the other; a line saying so is appended to ``notes``."""
    arch = arch or cfg.model.arch
    meta, params = ckpt.read_meta(path, "checkpoint")
    in_file = _classes_in_file(meta, params)
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
    from_demo = not demo.is_ats_checkpoint(meta)
    options = variants.resolve(build_options(arch), variants.configured(cfg.model), meta, from_demo)
    net = create_model(arch, classes, in_channels=int(meta.get("in_channels", 3)), **options)
    if from_demo:
        arrays = demo.network_arrays(params)
        demo.fill_missing_biases(arrays, net)
        params = {k: ms.Tensor(v) for k, v in arrays.items()}
    ckpt.load_weights(net, path, "checkpoint", arch, params=params)
    net.set_train(False)
    explicit = cfg.model.mean is not None
    trained = (tuple(cfg.model.mean), tuple(cfg.model.std)) if explicit else normalization.recorded(meta)
    if pipeline is not None and trained is not None:
        fed = normalization.fed_as_trained(net, pipeline, trained)
        if fed is not net and notes is not None:
            source = "model.mean / model.std" if explicit else f"{path} records"
            notes.append(f"the network was trained on inputs normalised with mean {tuple(trained[0])}, std "
                         f"{tuple(trained[1])} ({source}); the data pipeline's are mapped to them exactly "
                         "(model.mean / model.std override)")
        net = fed
        net.set_train(False)
    return net, classes
