"""The names of ats_ms's networks and the names of their classifier parameters: one table, importable without
MindSpore, so that configs are checked before MindSpore loads (``ats_ms.config.arch_names``) and the model zoo
registers exactly these names (``ats_ms.models``).

Fixed names are listed per family; three families also take any valid size by pattern: ``wrn_<depth>_<width>``
(depth = 6n + 4), ``resnext29_<cardinality>x<width>d`` and ``resnet<6n+2>_a`` (the original CIFAR ResNets with
option-A shortcuts).  ``mindcv:<name>`` networks come from mindcv and are checked when built.
"""
import re

RESNET_DEPTHS = (8, 14, 20, 32, 44, 56, 110)                 # resnet<d>: RepDistiller / ATS-paper CIFAR ResNets
RESNET_X4 = {"resnet8x4": 8, "resnet32x4": 32}                # the same with 4x wider stages
OPTION_A_DEPTHS = (8, 14, 20, 32, 44, 56, 110, 1202)          # resnet<d>_a: He et al.'s option-A shortcuts
WIDE = ((16, 1), (16, 2), (28, 1), (28, 2), (28, 4), (28, 8), (40, 1), (40, 2))   # wrn_<depth>_<width>
VGG_DEPTHS = (8, 11, 13, 16, 19)
RESNEXT = ((4, 4), (8, 4), (16, 4), (32, 4), (64, 4), (2, 64), (4, 64), (8, 64))  # resnext29_<C>x<W>d
SINGLE = ("mobilenetv2", "shufflev1", "shufflev2", "resnet50")

FIXED = tuple([f"resnet{d}" for d in RESNET_DEPTHS] + list(RESNET_X4) + [f"resnet{d}_a" for d in OPTION_A_DEPTHS]
              + [f"wrn_{d}_{w}" for d, w in WIDE] + [f"vgg{d}" for d in VGG_DEPTHS] + list(SINGLE)
              + [f"resnext29_{c}x{w}d" for c, w in RESNEXT])
# Alternative spellings people bring from other code bases.
ALIASES = {"mobile_half": "mobilenetv2", "mobilenetv2_0.5": "mobilenetv2",
           "shufflenetv1": "shufflev1", "shufflenetv2": "shufflev2"}
PATTERNS = {"wrn": re.compile(r"wrn_(\d+)_(\d+)$"), "resnext29": re.compile(r"resnext29_(\d+)x(\d+)d$"),
            "resnet_a": re.compile(r"resnet(\d+)_a$")}
# The model-zoo demo's TensorFlow-style "same" padding exists for these (its ResNets).
PADDING_SAME = tuple([f"resnet{d}" for d in RESNET_DEPTHS] + list(RESNET_X4))
# Classifier weights of every family (and of the PyTorch and mindcv networks read by convert): how a checkpoint's
# class count is read, and which parameters a fine-tuning start may leave out.
CLASSIFIER_WEIGHTS = ("fc.weight", "classifier.weight", "classifier.0.weight", "classifier.1.weight", "linear.weight")
CLASSIFIER_PARAMETERS = CLASSIFIER_WEIGHTS + tuple(w[: -len("weight")] + "bias" for w in CLASSIFIER_WEIGHTS)


def canonical(name):
    """The zoo's own spelling of ``name`` (lower case, aliases resolved)."""
    low = str(name).lower()
    return ALIASES.get(low, low)


SIZE_RULES = {"wrn": "a WRN's depth must be 6n+4 with n >= 1 (10, 16, 22, 28, 40, ...) and its width at least 1",
              "resnet_a": "an option-A ResNet's depth must be 6n+2 with n >= 1 (8, 14, 20, 32, 44, 56, 110, ...)",
              "resnext29": "a ResNeXt-29's cardinality and bottleneck width must be at least 1"}


def _family_match(name):
    key = canonical(name)
    for family, regex in PATTERNS.items():
        match = regex.match(key)
        if match:
            return family, match
    return None


def _valid_size(family, match):
    a, b = int(match[1]), int(match[2]) if family != "resnet_a" else 0
    if family == "wrn":
        return (a - 4) % 6 == 0 and a >= 10 and b >= 1
    if family == "resnet_a":
        return (a - 2) % 6 == 0 and a >= 8
    return a >= 1 and b >= 1


def pattern(name):
    """(family, match) when ``name`` is a valid size of a pattern family, else None."""
    found = _family_match(name)
    return found if found and _valid_size(*found) else None


def size_problem(name):
    """Why ``name``, spelled as a pattern family's member, is not a size that family has (None when it is, or when
    it is not spelled like one)."""
    found = _family_match(name)
    if found and not _valid_size(*found):
        return f"{SIZE_RULES[found[0]]}, and '{name}' is not"
    return None


def is_known(name):
    """A fixed name, an alias, or a valid size of a pattern family (mindcv names are not checked here)."""
    key = canonical(name)
    return key in FIXED or pattern(key) is not None
