"""Teacher logits computed once, for distillation whose training images are the same every epoch up to a flip.

A frozen teacher gives the same logits for the same input, so when every epoch shows the same images
(``data.augment: false``) or the same images randomly flipped (flip-only augmentation: ``data.crop_padding: 0``),
running it once over the training split, on each image and on its mirror image, and serving the logits of the
view a batch holds makes each KD step cost the same as a CE step.  The flip is drawn per image and epoch from
the run's seed, like the pipeline's own flip.  The cache holds the normalised training images in memory
(CIFAR: 50,000 x 3 x 32 x 32 float32, about 615 MB, plus the logits of each view).
"""
import numpy as np
import mindspore as ms
import mindspore.dataset as ds

from ats_ms.common.errors import DatasetError


class _CachedSource:
    """(image, label, teacher logits) by index; with ``flips`` a fresh coin per call picks the mirrored view."""

    def __init__(self, cache, seed):
        self.cache = cache
        self.rng = np.random.RandomState(seed) if cache.flipped_logits is not None else None

    def __getitem__(self, index):
        c = self.cache
        if self.rng is not None and self.rng.random_sample() < 0.5:
            return np.ascontiguousarray(c.images[index][..., ::-1]), c.labels[index], c.flipped_logits[index]
        return c.images[index], c.labels[index], c.logits[index]

    def __len__(self):
        return len(self.cache.labels)


class TeacherLogitCache:
    def __init__(self, ordered_data, frozen_teacher, logger=None, flips=False):
        """``ordered_data``: the training split from ``create_dataset(..., ordered=True)`` (no augmentation);
        ``flips``: also keep the teacher's logits of every image's mirror image."""
        images, labels, logits, flipped = [], [], [], []
        for x, y in ordered_data.create_tuple_iterator(num_epochs=1):
            images.append(x.asnumpy())
            labels.append(y.asnumpy())
            logits.append(frozen_teacher(x).asnumpy().astype(np.float32))
            if flips:
                mirror = ms.Tensor(np.ascontiguousarray(images[-1][..., ::-1]))
                flipped.append(frozen_teacher(mirror).asnumpy().astype(np.float32))
        self.images = np.concatenate(images)
        self.labels = np.concatenate(labels).astype(np.int32)
        self.logits = np.concatenate(logits)
        self.flipped_logits = np.concatenate(flipped) if flips else None
        if logger:
            held = self.images.nbytes + self.logits.nbytes + (self.flipped_logits.nbytes if flips else 0)
            views = ", of each image and its mirror image" if flips else ""
            logger.info(f"cached teacher logits for {len(self.labels)} training images{views} "
                        f"({held / 2 ** 20:.0f} MB)")

    def dataset(self, batch_size, seed):
        if len(self.labels) < batch_size:
            raise DatasetError(f"The training split has {len(self.labels)} images, fewer than one batch of {batch_size}.")
        ds.config.set_seed(seed)
        data = ds.GeneratorDataset(_CachedSource(self, seed), ["image", "label", "teacher_logits"],
                                   sampler=ds.RandomSampler(), python_multiprocessing=False, num_parallel_workers=1)
        return data.batch(batch_size, drop_remainder=True)
