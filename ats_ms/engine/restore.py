"""Rebuild a trained network from a config and a checkpoint (for eval, export and analysis)."""
from ats_ms.engine import checkpoint as ckpt
from ats_ms.models import create_model


def network_from_checkpoint(cfg, path, num_classes=None):
    """``num_classes``: explicit, else the config's, else the count recorded in the checkpoint."""
    meta, params = ckpt.read_meta(path)
    classes = num_classes or cfg.model.num_classes or int(meta.get("num_classes") or 0)
    if not classes:
        from ats_ms.data import get_source  # pylint: disable=import-outside-toplevel
        classes = get_source(cfg.data, "test").num_classes
    net = create_model(cfg.model.arch, classes)
    ckpt.load_weights(net, path, "checkpoint", cfg.model.arch, params=params)
    net.set_train(False)
    return net, classes
