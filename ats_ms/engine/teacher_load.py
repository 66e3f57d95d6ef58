"""The teacher network with its weights, built the way its checkpoint was trained.

ats_ms records each network's padding variant in its checkpoints.  A MindSpore checkpoint without ats_ms's
metadata is the model-zoo demo's: it is read as the demo built it (ResNet padding 'same', VGG without conv
bias), and a note says so.
"""
import mindspore as ms

from ats_ms.engine import checkpoint as ckpt
from ats_ms.interop import demo
from ats_ms.models import create_model, padding_of


def load_teacher(cfg, num_classes):
    """(network, padding, note or None)."""
    path = cfg.teacher.checkpoint
    meta, params = ckpt.read_meta(path, "teacher checkpoint")
    from_demo = params is not None and not demo.is_ats_checkpoint(meta)
    if from_demo and cfg.teacher.padding == "auto":
        padding = demo.demo_padding(cfg.teacher.arch)
    else:
        padding = padding_of(cfg.teacher.padding, meta)
    net = create_model(cfg.teacher.arch, num_classes, padding=padding)
    note = None
    if from_demo:
        arrays = demo.network_arrays(params)
        filled = demo.fill_missing_biases(arrays, net)
        params = {k: ms.Tensor(v) for k, v in arrays.items()}
        note = (f"teacher checkpoint {path} has no ats_ms metadata: read as a model-zoo demo checkpoint (padding "
                f"{padding}{', zero conv biases added' if filled else ''}). Convert it once with 'python -m "
                f"ats_ms.convert --arch {cfg.teacher.arch} --input {path} --output teacher.ckpt' to record this, or "
                "set teacher.padding to override.")
    ckpt.load_weights(net, path, "teacher checkpoint", cfg.teacher.arch, params=params)
    return net, padding, note
