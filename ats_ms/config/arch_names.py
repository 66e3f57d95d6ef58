"""Checks of the network names and build options a config gives, against the zoo's one table
(``ats_ms.common.model_names``, importable without MindSpore), so a config with a misspelt ``model.arch`` fails in half a
second with a suggestion instead of after the run folder exists."""
import difflib
import re

from ats_ms.common import model_names
from ats_ms.common.errors import ConfigError

FIXED, ALIASES, PADDING_SAME = model_names.FIXED, tuple(model_names.ALIASES), model_names.PADDING_SAME


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
    if model_names.is_known(low):
        return
    problem = model_names.size_problem(low)
    if problem:
        raise ConfigError(f"'{key}' is '{name}': {problem}. Choose a size the family has.")
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
