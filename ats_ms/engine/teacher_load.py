"""The teacher network with its weights, built the way its checkpoint was trained.

ats_ms records each network's variant (``ats_ms.models.variants``) in its checkpoints.  A MindSpore checkpoint
without ats_ms's metadata is the model-zoo demo's: it is read as the demo built it (ResNet padding 'same', VGG
without conv bias), and a note says so.
"""
import mindspore as ms

from ats_ms.engine import checkpoint as ckpt
from ats_ms.interop import demo
from ats_ms.models import build_options, create_model, variants


def load_teacher(cfg, num_classes):
    """(network, build options, note or None)."""
    path, arch = cfg.teacher.checkpoint, cfg.teacher.arch
    meta, params = ckpt.read_meta(path, "teacher checkpoint")
    from_demo = not demo.is_ats_checkpoint(meta)
    options = variants.resolve(build_options(arch), variants.configured(cfg.teacher), meta, from_demo)
    net = create_model(arch, num_classes, **options)
    note = None
    if from_demo:
        arrays = demo.network_arrays(params)
        filled = demo.fill_missing_biases(arrays, net)
        params = {k: ms.Tensor(v) for k, v in arrays.items()}
        built = variants.summary(options, only_changes=True) or "the references' variant"
        note = (f"teacher checkpoint {path} has no ats_ms metadata: read as a model-zoo demo checkpoint ({built}"
                f"{', zero conv biases added' if filled else ''}). Convert it once with 'python -m "
                f"ats_ms.convert --arch {arch} --input {path} --output teacher.ckpt' to record this, or set "
                "teacher.padding / teacher.conv_bias to override.")
    ckpt.load_weights(net, path, "teacher checkpoint", arch, params=params)
    return net, options, note
