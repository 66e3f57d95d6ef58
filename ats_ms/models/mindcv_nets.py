"""Any network of MindSpore's model zoo ``mindcv`` as a teacher or student: ``model.arch: mindcv:<name>``.

mindcv (``pip install -e ".[mindcv]"``) builds the ImageNet networks of the KD benchmarks (ResNet-18/34/50,
MobileNet-V1, MobileNet-V2 1.0, with their published parameter counts) and hundreds more, with
MindSpore-native pretrained checkpoints.  ats_ms does not keep copies of those networks: it builds them through
mindcv and adds one recorded option, the padding of the ResNets' stem max-pool.  mindcv pools with
``pad_mode="same"`` (pad 0 before, 1 after on even inputs); torchvision pads one on each side, so a ResNet
converted from a torchvision checkpoint is built with ``pool_padding: symmetric`` to give torchvision's logits.
"""
import difflib

from mindspore import nn

from ats_ms.common.errors import ConfigError
from ats_ms.common.optional import require

PREFIX = "mindcv:"


def is_mindcv(name):
    return str(name).lower().startswith(PREFIX)


def _mindcv():
    return require("mindcv", "mindcv:<name> networks (mindcv 0.3.0 runs on MindSpore 2.10)")


def model_name(name):
    return str(name)[len(PREFIX):]


def check_name(name):
    """The mindcv model name of ``mindcv:<name>``, or a ValueError that suggests close names."""
    mindcv = _mindcv()
    bare = model_name(name)
    known = mindcv.models.list_models()
    if bare not in known:
        close = difflib.get_close_matches(bare, known, n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(PREFIX + c for c in close)}?" if close else ""
        raise ConfigError(f"'{name}' is not a mindcv model.{hint} 'python -c \"import mindcv; "
                         "print(mindcv.models.list_models())\"' lists them all.")
    return bare


def build(name, num_classes, pool_padding="same", pretrained=False, in_channels=3):
    """A mindcv network with a ``num_classes``-way classifier.  ``pretrained``: mindcv's own ImageNet weights,
    downloaded by mindcv (the classifier is re-initialised when ``num_classes`` is not 1000)."""
    mindcv = _mindcv()
    bare = check_name(name)
    try:
        net = mindcv.models.create_model(bare, num_classes=num_classes, pretrained=pretrained, in_channels=in_channels)
    except Exception as exc:  # pylint: disable=broad-except  (download and build failures alike)
        what = "download or load mindcv's pretrained weights for" if pretrained else "build"
        raise ConfigError(f"mindcv could not {what} '{bare}' ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''}).") from None
    if pool_padding == "symmetric":
        pool = getattr(net, "max_pool", None)
        if not isinstance(pool, nn.MaxPool2d):
            raise ConfigError(f"pool_padding 'symmetric' applies to mindcv's ResNets (a stem max-pool), not '{bare}'.")
        net.max_pool = nn.MaxPool2d(kernel_size=3, stride=2, pad_mode="pad", padding=1)
    return net


def options_of(name):
    """The build options a mindcv network takes: the ResNet families' stem max-pool padding."""
    bare = model_name(name).lower()
    return ("pool_padding",) if bare.startswith(("resnet", "resnext", "wide_resnet")) else ()
