"""Model zoo: ``create_model(name, num_classes)`` and ``list_models()``.

The names come from the one table of ``ats_ms.common.model_names`` (importable without MindSpore, for config checks):
each fixed name is registered here with its builder, and the three pattern families (``wrn_<depth>_<width>``,
``resnext29_<cardinality>x<width>d``, ``resnet<6n+2>_a``) build any valid size.
"""
from ats_ms.common import model_names as names
from ats_ms.process import cpu_isa
from ats_ms.models import (bottleneck_nets, mindcv_nets, mobilenetv2, resnet_cifar, resnet_option_a, shufflenet,
                           variants, vgg, wrn)

_REGISTRY = {}
for _depth in names.RESNET_DEPTHS:
    _REGISTRY[f"resnet{_depth}"] = resnet_cifar.build(_depth)
for _depth in names.OPTION_A_DEPTHS:
    _REGISTRY[f"resnet{_depth}_a"] = resnet_option_a.build(_depth)
for _name, _depth in names.RESNET_X4.items():
    _REGISTRY[_name] = resnet_cifar.build(_depth, width_mult=4)
for _d, _w in names.WIDE:
    _REGISTRY[f"wrn_{_d}_{_w}"] = wrn.build(_d, _w)
for _depth in names.VGG_DEPTHS:
    _REGISTRY[f"vgg{_depth}"] = vgg.build(_depth)
_REGISTRY["mobilenetv2"] = mobilenetv2.build(0.5)
_REGISTRY["shufflev1"] = shufflenet.shufflev1
_REGISTRY["shufflev2"] = shufflenet.shufflev2
_REGISTRY["resnet50"] = bottleneck_nets.resnet50
for _c, _w in names.RESNEXT:
    _REGISTRY[f"resnext29_{_c}x{_w}d"] = bottleneck_nets.build_resnext29(_c, _w)
assert sorted(_REGISTRY) == sorted(names.FIXED), "ats_ms.common.model_names and the zoo disagree"  # noqa: S101

_PATTERN_BUILDERS = {"wrn": lambda m: wrn.build(int(m[1]), int(m[2])),
                     "resnext29": lambda m: bottleneck_nets.build_resnext29(int(m[1]), int(m[2])),
                     "resnet_a": lambda m: resnet_option_a.build(int(m[1]))}


def list_models():
    """Registered names (the pattern families accept more sizes than listed)."""
    return sorted(_REGISTRY)


def _factory(name):
    key = names.canonical(name)
    if key in _REGISTRY:
        return _REGISTRY[key]
    found = names.pattern(key)
    if found:
        return _PATTERN_BUILDERS[found[0]](found[1])
    problem = names.size_problem(key)
    if problem:
        raise ValueError(f"Unknown model '{name}': {problem}.")
    import difflib  # pylint: disable=import-outside-toplevel
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
    cpu_isa.default_unless_chosen()  # a user's own script: MindSpore's convolution keeps its fast path
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
