"""Per-image operations: the CIFAR augmentation scaled to the image size, and the ImageNet one.

``cifar`` (CIFAR, digits, image folders, Tiny-ImageNet): train RandomCrop(size, padding = size // 8, zero
fill) + RandomHorizontalFlip(0.5) + normalise + CHW; test normalise + CHW.
``imagenet``: train RandomResizedCrop(size, scale 0.08-1, ratio 3/4-4/3) + RandomHorizontalFlip(0.5) +
normalise + CHW; test Resize(shorter side to size / 0.875, i.e. 256 for 224) + CenterCrop(size) + normalise
+ CHW (the torchvision / mdistiller evaluation).
Normalisation is applied to uint8 pixels by MindSpore's C++ ``Normalize`` with the [0, 1] constants scaled
by 255, which equals ToTensor-then-Normalize.  ``decode`` prepends the C++ JPEG/PNG decoder (RGB).
"""
import mindspore.dataset.vision as V

EVAL_CROP_FRACTION = 0.875


def speech_ops(mean, std):
    """64 x 101 log-mel spectrogram (``ats_ms.data.speech`` computes it) -> normalised 1 x 64 x 101 input."""
    import numpy as np  # pylint: disable=import-outside-toplevel
    m, s = float(mean[0]), float(std[0])

    def normalise(spectrogram):
        return ((spectrogram - m) / s)[None].astype(np.float32)

    return [normalise]


def imagenet_ops(size, mean, std, train, augment=True, hflip=True, decode=True):
    ops = [V.Decode()] if decode else []
    if train and augment:
        ops.append(V.RandomResizedCrop(size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)))
        if hflip:
            ops.append(V.RandomHorizontalFlip(0.5))
    else:
        ops += [V.Resize(int(round(size / EVAL_CROP_FRACTION))), V.CenterCrop(size)]
    ops.append(V.Normalize([m * 255.0 for m in mean], [s * 255.0 for s in std]))
    ops.append(V.HWC2CHW())
    return ops


def image_ops(size, mean, std, train, augment=True, hflip=True, crop_padding=None, resize=False, decode=False):
    ops = [V.Decode()] if decode else []
    if resize:
        ops.append(V.Resize((size, size)))
    if train and augment:
        pad = size // 8 if crop_padding is None else crop_padding
        if pad > 0:
            ops.append(V.RandomCrop(size, padding=pad, fill_value=0))
        if hflip:
            ops.append(V.RandomHorizontalFlip(0.5))
    ops.append(V.Normalize([m * 255.0 for m in mean], [s * 255.0 for s in std]))
    ops.append(V.HWC2CHW())
    return ops
