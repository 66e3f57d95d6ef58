"""The network names ``create_model`` accepts, known without importing MindSpore, so a config with a
misspelt ``model.arch`` fails in half a second with a suggestion instead of after the run folder exists.
(``tests/test_config.py`` checks this list against ``ats_ms.models.list_models()``.)"""
import difflib
import re

from ats_ms.errors import ConfigError

FIXED = tuple(
    [f"resnet{d}" for d in (8, 14, 20, 32, 44, 56, 110)] + ["resnet8x4", "resnet32x4"]
    + [f"resnet{d}_a" for d in (8, 14, 20, 32, 44, 56, 110, 1202)]
    + [f"wrn_{d}_{w}" for d, w in ((16, 1), (16, 2), (28, 1), (28, 2), (28, 4), (28, 8), (40, 1), (40, 2))]
    + [f"vgg{d}" for d in (8, 11, 13, 16, 19)]
    + ["mobilenetv2", "shufflev1", "shufflev2", "resnet50"]
    + [f"resnext29_{c}x{w}d" for c, w in ((4, 4), (8, 4), (16, 4), (32, 4), (64, 4), (2, 64), (4, 64), (8, 64))])
ALIASES = ("mobile_half", "mobilenetv2_0.5", "shufflenetv1", "shufflenetv2")
PADDING_SAME = tuple(n for n in FIXED if re.fullmatch(r"resnet(8|14|20|32|44|56|110)(x4)?", n) or n == "resnet32x4")


def _pattern_ok(name):
    match = re.fullmatch(r"wrn_(\d+)_(\d+)", name)
    if match:
        return (int(match[1]) - 4) % 6 == 0 and int(match[1]) >= 10 and int(match[2]) >= 1
    match = re.fullmatch(r"resnet(\d+)_a", name)
    if match:
        return (int(match[1]) - 2) % 6 == 0 and int(match[1]) >= 8
    match = re.fullmatch(r"resnext29_(\d+)x(\d+)d", name)
    return bool(match) and int(match[1]) >= 1 and int(match[2]) >= 1


def check_arch(name, key):
    """Refuse unknown names early.  ``mindcv:<name>`` is only checked for its form here (importing mindcv would
    load MindSpore); the name itself is checked when the network is built, with suggestions."""
    if name is None:
        return
    low = str(name).lower()
    if low.startswith("mindcv:"):
        if re.fullmatch(r"mindcv:[a-z0-9_.]+", low):
            return
        raise ConfigError(f"'{key}' is '{name}': a mindcv network is named mindcv:<model name>, e.g. mindcv:resnet50.")
    if low in FIXED or low in ALIASES or _pattern_ok(low):
        return
    close = difflib.get_close_matches(low, FIXED + ALIASES, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ConfigError(f"'{key}' is '{name}', which is not a network ats_ms knows.{hint} Known: {', '.join(FIXED)}; "
                      "also wrn_<6n+4>_<width>, resnext29_<C>x<W>d, resnet<6n+2>_a and any mindcv model as "
                      "mindcv:<name> (e.g. mindcv:resnet50).")


def check_conv_bias(arch, conv_bias, key):
    if conv_bias is not None and arch is not None and not re.fullmatch(r"vgg\d+", str(arch).lower()):
        raise ConfigError(f"'{key}' is {str(conv_bias).lower()}, but only VGG has that option (the model-zoo demo's VGG "
                          f"convolutions have no bias), not '{arch}'. Leave it empty (null).")


def check_padding(arch, padding, key):
    if padding == "same" and arch is not None and str(arch).lower() not in PADDING_SAME:
        raise ConfigError(f"'{key}' is 'same' (the model-zoo demo's ResNet padding), which exists for the CIFAR ResNets "
                          f"only, not '{arch}'. Use auto or symmetric.")
