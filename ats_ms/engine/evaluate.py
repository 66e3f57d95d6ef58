"""Evaluation of one network over a dataset: top-1, top-5, mean CE loss and per-class accuracy.

Counts are accumulated exactly over every image the dataset yields (its last partial batch
included), so the reported accuracy is over the whole test split, not over full batches only.
"""
import numpy as np
import mindspore as ms
from mindspore import nn, ops


class LogitsAndLoss(nn.Cell):
    """``auto_prefix=False`` keeps the wrapped network's parameter names (and so the training
    network's checkpoint names) unchanged."""

    def __init__(self, net):
        super().__init__(auto_prefix=False)
        self.net = net

    def construct(self, images, labels):
        logits = self.net(images).astype(ms.float32)
        loss = ops.cross_entropy(logits, labels, reduction="none")
        return logits, loss


class Evaluator:
    """Keeps one compiled evaluation graph per network across repeated evaluations."""

    def __init__(self, net, num_classes):
        self.net, self.num_classes = net, num_classes
        self.runner = LogitsAndLoss(net)

    def __call__(self, dataset):
        return _run(self.net, self.runner, dataset, self.num_classes)


def evaluate(net, dataset, num_classes):
    """Return dict(top1, top5, loss, count, per_class, per_class_count) with accuracies in percent; per_class
    holds None for a class without test images."""
    return _run(net, LogitsAndLoss(net), dataset, num_classes)


def _run(net, runner, dataset, num_classes):
    was_training = net.training
    net.set_train(False)
    runner.set_train(False)
    correct1 = correct5 = count = 0
    loss_sum = 0.0
    hits = np.zeros(num_classes, np.int64)
    totals = np.zeros(num_classes, np.int64)
    k = min(5, num_classes)
    for images, labels in dataset.create_tuple_iterator(num_epochs=1):
        logits, loss = runner(images, labels)
        logits, loss, y = logits.asnumpy(), loss.asnumpy(), labels.asnumpy()
        topk = np.argpartition(-logits, k - 1, axis=1)[:, :k]
        top1 = logits.argmax(1) == y
        correct1 += int(top1.sum())
        correct5 += int((topk == y[:, None]).any(1).sum())
        loss_sum += float(loss.sum())
        count += len(y)
        np.add.at(totals, y, 1)
        np.add.at(hits, y, top1.astype(np.int64))
    net.set_train(was_training)
    if count == 0:
        return {"top1": float("nan"), "top5": float("nan"), "loss": float("nan"), "count": 0, "per_class": [],
                "per_class_count": []}
    per_class = [round(100.0 * h / t, 2) if t else None for h, t in zip(hits, totals)]
    return {"top1": 100.0 * correct1 / count, "top5": 100.0 * correct5 / count, "loss": loss_sum / count,
            "count": count, "per_class": per_class, "per_class_count": totals.tolist()}
