"""Build options that change a network without changing its name, recorded in every checkpoint ats_ms writes.

Three families exist in two variants that share parameter names and shapes:

- the CIFAR ResNets pad their convolutions symmetrically (the PyTorch references) or TensorFlow-style
  (``padding: same``, as the MindSpore model-zoo demo builds them);
- VGG convolutions carry a bias (the PyTorch references) or not (``conv_bias: false``, the demo's VGG);
- mindcv's ImageNet ResNets pool their stem TensorFlow-style (``pool_padding: same``, mindcv's own) or
  symmetrically (``pool_padding: symmetric``, torchvision's: what converted torchvision checkpoints record).

A checkpoint of one variant loads into the other without an error but gives other logits, so the variant
travels with the checkpoint: every command resolves it as the config's explicit value, else what the
checkpoint records, else the demo's variant for a file the demo wrote (no ats_ms metadata), else the
references'.
"""
REFERENCE = {"padding": "symmetric", "conv_bias": True, "pool_padding": "same"}
DEMO = {"padding": "same", "conv_bias": False, "pool_padding": "same"}
CHOICES = {"padding": ("symmetric", "same"), "conv_bias": (True, False), "pool_padding": ("same", "symmetric")}


def supported(factory):
    """The options a model factory takes (``factory.options``), e.g. ("padding",) for the CIFAR ResNets."""
    return tuple(getattr(factory, "options", ()))


def _normalise(key, value):
    if key == "conv_bias" and isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    if key == "conv_bias":
        return bool(value)
    return str(value)


def configured(section):
    """The options a ``model`` or ``teacher`` config section sets explicitly (``auto`` / null = not set)."""
    out = {}
    if getattr(section, "padding", "auto") not in (None, "auto"):
        out["padding"] = section.padding
    if getattr(section, "conv_bias", None) is not None:
        out["conv_bias"] = bool(section.conv_bias)
    return out


def resolve(keys, explicit=None, meta=None, from_demo=False):
    """The value of every option in ``keys``: explicit, else recorded in ``meta``, else the demo's variant for
    a demo-written file, else the references'."""
    explicit, meta = explicit or {}, meta or {}
    out = {}
    for key in keys:
        if key in explicit:
            out[key] = explicit[key]
        elif meta.get(key) is not None and _normalise(key, meta[key]) in CHOICES[key]:
            out[key] = _normalise(key, meta[key])
        else:
            out[key] = (DEMO if from_demo else REFERENCE)[key]
    return out


def summary(options, only_changes=False):
    """For logs: 'padding same, no conv bias'; with ``only_changes`` the references' values are left out."""
    parts = []
    for key, value in options.items():
        if only_changes and value == REFERENCE[key]:
            continue
        if key == "conv_bias":
            parts.append("conv bias" if value else "no conv bias")
        else:
            parts.append(f"{key.replace('_', ' ')} {value}")
    return ", ".join(parts)
