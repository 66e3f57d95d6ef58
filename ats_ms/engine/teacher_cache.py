"""Teacher logits computed once, for distillation without augmentation.

When every epoch shows the same images, the frozen teacher gives the same logits every epoch; running
it once over the training split and serving its logits beside the images makes each KD step cost the
same as a CE step.  The cache holds the normalised training images in memory
(CIFAR: 50,000 x 3 x 32 x 32 float32, about 615 MB, plus the logits).
"""
import numpy as np
import mindspore.dataset as ds

from ats_ms.common.errors import DatasetError


class _CachedSource:
    def __init__(self, images, labels, logits):
        self.images, self.labels, self.logits = images, labels, logits

    def __getitem__(self, index):
        return self.images[index], self.labels[index], self.logits[index]

    def __len__(self):
        return len(self.labels)


class TeacherLogitCache:
    def __init__(self, ordered_data, frozen_teacher, logger=None):
        """``ordered_data``: the training split from ``create_dataset(..., ordered=True)``."""
        images, labels, logits = [], [], []
        for x, y in ordered_data.create_tuple_iterator(num_epochs=1):
            images.append(x.asnumpy())
            labels.append(y.asnumpy())
            logits.append(frozen_teacher(x).asnumpy().astype(np.float32))
        self.images = np.concatenate(images)
        self.labels = np.concatenate(labels).astype(np.int32)
        self.logits = np.concatenate(logits)
        if logger:
            logger.info(f"cached teacher logits for {len(self.labels)} training images "
                        f"({(self.images.nbytes + self.logits.nbytes) / 2 ** 20:.0f} MB)")

    def dataset(self, batch_size, seed):
        if len(self.labels) < batch_size:
            raise DatasetError(f"The training split has {len(self.labels)} images, fewer than one batch of {batch_size}.")
        ds.config.set_seed(seed)
        data = ds.GeneratorDataset(_CachedSource(self.images, self.labels, self.logits),
                                   ["image", "label", "teacher_logits"], sampler=ds.RandomSampler(),
                                   python_multiprocessing=False)
        return data.batch(batch_size, drop_remainder=True)
