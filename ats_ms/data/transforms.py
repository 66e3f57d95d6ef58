"""Per-image operations: the paper's CIFAR augmentation, scaled to the image size.

Train: RandomCrop(size, padding = size // 8, zero fill) + RandomHorizontalFlip(0.5) + normalise + CHW.
Test: normalise + CHW.  Normalisation is applied to uint8 pixels by MindSpore's C++ ``Normalize``
with the [0, 1] constants scaled by 255, which equals ToTensor-then-Normalize.
"""
import mindspore.dataset.vision as V


def image_ops(size, mean, std, train, augment=True, hflip=True, crop_padding=None, resize=False):
    ops = []
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
