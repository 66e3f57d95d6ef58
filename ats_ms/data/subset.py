"""A fixed, class-balanced part of a training split, and a validation split carved from it.

Experiments that must train teachers until they fit their data on a CPU (the capacity-mismatch study) use a
subset of the training images; choosing a temperature pair on the test set would then report an optimistic
number, so a validation split is held out of the same subset.  The rule is deterministic and needs no file:
the first ``subset_per_class`` images of each class in the release's file order form the subset, and the
last ``val_per_class`` of those form the validation split ("val"); the rest is the training split.  The same
config therefore selects the same images on every machine and in every command (train, eval, analyze).
"""
import numpy as np

from ats_ms.common.errors import DatasetError


def uses_subset(cfg):
    """True when the data section restricts the training images or holds a validation split out of them."""
    return bool(cfg.subset_per_class) or bool(cfg.val_per_class)


def split_indices(labels, num_classes, per_class, val_per_class):
    """(train indices, validation indices) into ``labels``, each sorted in file order.

    ``per_class`` None takes every image of each class; ``val_per_class`` images of each class (the last ones
    of its part of the subset) go to validation."""
    labels = np.asarray(labels)
    train, val = [], []
    for c in range(num_classes):
        members = np.nonzero(labels == c)[0]
        wanted = per_class if per_class else len(members)
        if wanted <= val_per_class:
            raise DatasetError(
                f"data.val_per_class={val_per_class} holds out at least as many images of each class as "
                + (f"data.subset_per_class={per_class} takes" if per_class else f"class {c} has ({len(members)})")
                + ": no training image would be left. The validation images are carved out of the subset, so "
                "data.val_per_class must be below data.subset_per_class (e.g. 120 and 20 train on 100 images of "
                "each class and validate on 20).")
        if len(members) < wanted:
            raise DatasetError(
                f"Class {c} has {len(members)} training images, fewer than data.subset_per_class={per_class}. Lower "
                "data.subset_per_class to at most the smallest class's count.")
        chosen = members[:wanted]
        cut = wanted - val_per_class
        train.append(chosen[:cut])
        val.append(chosen[cut:])
    return np.sort(np.concatenate(train)).tolist(), np.sort(np.concatenate(val)).tolist()


def subset_indices(cfg, source, split):
    """The indices of ``source`` (the training release) that ``split`` ("train" or "val") reads."""
    if source.labels is None:
        raise DatasetError(f"data.subset_per_class and data.val_per_class are available for datasets whose labels "
                           f"are known before reading the images (cifar10, cifar100, digits), not for "
                           f"'{source.name}'. Remove them, or use data.train_samples.")
    train, val = split_indices(source.labels(), source.num_classes, cfg.subset_per_class, cfg.val_per_class or 0)
    return val if split == "val" else train
