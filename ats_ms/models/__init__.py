"""Model zoo: ``create_model(name, num_classes)`` and ``list_models()``.

Fixed names are registered in ``_REGISTRY``; three families also accept any valid size by pattern:
``wrn_<depth>_<width>`` (depth = 6n+4), ``resnext29_<cardinality>x<width>d`` and ``resnet<6n+2>_a`` (the
original CIFAR ResNets with option-A shortcuts).
"""
import re

from ats_ms.models import (bottleneck_nets, mindcv_nets, mobilenetv2, resnet_cifar, resnet_option_a, shufflenet,
                           variants, vgg, wrn)

_REGISTRY = {}
for _depth in (8, 14, 20, 32, 44, 56, 110):
    _REGISTRY[f"resnet{_depth}"] = resnet_cifar.build(_depth)
for _depth in (8, 14, 20, 32, 44, 56, 110, 1202):
    _REGISTRY[f"resnet{_depth}_a"] = resnet_option_a.build(_depth)
_REGISTRY["resnet8x4"] = resnet_cifar.build(8, width_mult=4)
_REGISTRY["resnet32x4"] = resnet_cifar.build(32, width_mult=4)
for _d, _w in ((16, 1), (16, 2), (28, 1), (28, 2), (28, 4), (28, 8), (40, 1), (40, 2)):
    _REGISTRY[f"wrn_{_d}_{_w}"] = wrn.build(_d, _w)
for _depth in sorted(vgg.CONFIGS):
    _REGISTRY[f"vgg{_depth}"] = vgg.build(_depth)
_REGISTRY["mobilenetv2"] = mobilenetv2.build(0.5)
_REGISTRY["shufflev1"] = shufflenet.shufflev1
_REGISTRY["shufflev2"] = shufflenet.shufflev2
_REGISTRY["resnet50"] = bottleneck_nets.resnet50
for _c, _w in ((4, 4), (8, 4), (16, 4), (32, 4), (64, 4), (2, 64), (4, 64), (8, 64)):
    _REGISTRY[f"resnext29_{_c}x{_w}d"] = bottleneck_nets.build_resnext29(_c, _w)

# Alternative spellings people bring from other code bases.
_ALIASES = {"mobile_half": "mobilenetv2", "mobilenetv2_0.5": "mobilenetv2",
            "shufflenetv1": "shufflev1", "shufflenetv2": "shufflev2"}

_PATTERNS = [
    (re.compile(r"wrn_(\d+)_(\d+)$"), lambda m: wrn.build(int(m[1]), int(m[2]))),
    (re.compile(r"resnext29_(\d+)x(\d+)d$"), lambda m: bottleneck_nets.build_resnext29(int(m[1]), int(m[2]))),
    (re.compile(r"resnet(\d+)_a$"), lambda m: resnet_option_a.build(int(m[1]))),
]


def list_models():
    """Registered names (the pattern families accept more sizes than listed)."""
    return sorted(_REGISTRY)


def _factory(name):
    key = _ALIASES.get(name.lower(), name.lower())
    if key in _REGISTRY:
        return _REGISTRY[key]
    for pattern, make in _PATTERNS:
        match = pattern.match(key)
        if match:
            return make(match)
    import difflib
    close = difflib.get_close_matches(key, list_models(), n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise ValueError(f"Unknown model '{name}'.{hint} Known models: {', '.join(list_models())}; "
                     "wrn_<depth>_<width> and resnext29_<C>x<W>d accept other sizes too.")


def create_model(name, num_classes=100, pretrained=False, in_channels=3, **options):
    """Build a network by name; ``num_classes`` sets the classifier width.  ``options`` are the build options
    of ``ats_ms.models.variants``: ``padding="same"`` (CIFAR ResNets) and ``conv_bias=False`` (VGG) build the
    model-zoo demo's variants, ``pool_padding="symmetric"`` a mindcv ResNet with torchvision's stem pooling; an
    option a family does not have is accepted only at its reference value.  ``mindcv:<name>`` builds a network
    of the mindcv model zoo (``pretrained``: with mindcv's ImageNet weights).  ``in_channels``: channels of the
    input (1 for spectrograms), for the CIFAR ResNets, WRN, VGG and mindcv networks."""
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    if mindcv_nets.is_mindcv(name):
        kept = {k: v for k, v in options.items() if k in mindcv_nets.options_of(name) and v is not None}
        return mindcv_nets.build(name, num_classes, pretrained=pretrained, in_channels=in_channels, **kept)
    if pretrained:
        raise ValueError(f"pretrained weights come from mindcv's model zoo (mindcv:<name>), not for '{name}'.")
    factory = _factory(name)
    kwargs = {}
    for key, value in options.items():
        if value is None or (key not in variants.supported(factory) and value == variants.REFERENCE.get(key)):
            continue
        if key not in variants.supported(factory):
            raise ValueError(f"{key} '{value}' is not an option of '{name}' (padding: the CIFAR ResNets; conv_bias: "
                             "VGG).")
        kwargs[key] = value
    if in_channels != 3:
        if not getattr(factory, "takes_in_channels", False):
            raise ValueError(f"'{name}' takes 3-channel inputs only; for {in_channels}-channel inputs use a CIFAR "
                             "ResNet, WRN or VGG (or a mindcv network).")
        kwargs["in_channels"] = in_channels
    return factory(num_classes=num_classes, **kwargs)


def build_options(name):
    """The build options ``name`` takes (see ``ats_ms.models.variants``)."""
    if mindcv_nets.is_mindcv(name):
        return mindcv_nets.options_of(name)
    return variants.supported(_factory(name))


def count_params(net, trainable_only=True):
    params = net.trainable_params() if trainable_only else net.get_parameters()
    return sum(int(p.size) for p in params)


__all__ = ["create_model", "list_models", "count_params", "build_options"]
