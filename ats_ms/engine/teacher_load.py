"""The teacher network with its weights, built the way its checkpoint was trained.

ats_ms records each network's variant (``ats_ms.models.variants``) in its checkpoints.  A MindSpore checkpoint
without ats_ms's metadata is the model-zoo demo's: it is read as the demo built it (ResNet padding 'same', VGG
without conv bias), and a note says so.
"""
import mindspore as ms

from ats_ms.engine import checkpoint as ckpt
from ats_ms.interop import demo
from ats_ms.models import build_options, create_model, normalization, variants


def teacher_normalization(teacher_cfg, meta):
    """(mean, std) the teacher was trained with: the config's explicit values, else what its checkpoint
    records, else None (the run's own pipeline)."""
    if teacher_cfg.mean is not None:
        return tuple(teacher_cfg.mean), tuple(teacher_cfg.std)
    return normalization.recorded(meta)


def load_teacher(cfg, num_classes, pipeline=None, in_channels=3):
    """(network, build options, notes).  ``pipeline``: the run's (mean, std); a teacher trained with another
    normalisation is returned behind the map from one to the other (``ats_ms.models.normalization``)."""
    path, arch = cfg.teacher.checkpoint, cfg.teacher.arch
    meta, params = ckpt.read_meta(path, "teacher checkpoint")
    from_demo = not demo.is_ats_checkpoint(meta)
    options = variants.resolve(build_options(arch), variants.configured(cfg.teacher), meta, from_demo)
    net = create_model(arch, num_classes, in_channels=in_channels, **options)
    notes = []
    if from_demo:
        arrays = demo.network_arrays(params)
        filled = demo.fill_missing_biases(arrays, net)
        params = {k: ms.Tensor(v) for k, v in arrays.items()}
        built = variants.summary(options, only_changes=True) or "the references' variant"
        notes.append(f"teacher checkpoint {path} has no ats_ms metadata: read as a model-zoo demo checkpoint ({built}"
                     f"{', zero conv biases added' if filled else ''}). Convert it once with 'python -m "
                     f"ats_ms.convert --arch {arch} --input {path} --output teacher.ckpt' to record this, or set "
                     "teacher.padding / teacher.conv_bias to override.")
    ckpt.load_weights(net, path, "teacher checkpoint", arch, params=params)
    trained = teacher_normalization(cfg.teacher, meta)
    if pipeline is not None:
        fed = normalization.fed_as_trained(net, pipeline, trained)
        if fed is not net:
            source = "teacher.mean/std" if cfg.teacher.mean is not None else "its checkpoint"
            notes.append(f"the teacher was trained on inputs normalised with mean {_fmt(trained[0])} std "
                         f"{_fmt(trained[1])} ({source}); this run's pipeline uses mean {_fmt(pipeline[0])} std "
                         f"{_fmt(pipeline[1])}, so the teacher gets the exact per-channel map between the two and "
                         "the students see the pipeline's inputs")
        net = fed
    return net, options, notes


def _fmt(values):
    return "(" + ", ".join(f"{v:g}" for v in values) + ")"
