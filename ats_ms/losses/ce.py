"""Cross-entropy as a "method": what a teacher, or a student without distillation, is trained with.

It has the same ``terms(student_logits, teacher_logits, labels)`` interface as the distillation losses
(the teacher's logits are ignored), so one loss network trains every kind of run, and a CE-only
baseline can train beside TS/ATS students of the same teacher in one multi-student run.
"""
import mindspore as ms
from mindspore import nn


class CELoss(nn.Cell):
    """``label_smoothing`` eps: (1 - eps) CE + eps * the mean over classes of -log q (MindSpore's
    ``CrossEntropyLoss``; off by default)."""
    term_names = ("loss", "ce")

    def __init__(self, label_smoothing=0.0):
        super().__init__()
        self.ce = nn.CrossEntropyLoss(label_smoothing=float(label_smoothing))

    def terms(self, student_logits, teacher_logits, labels):  # pylint: disable=unused-argument
        ce = self.ce(student_logits.astype(ms.float32), labels.astype(ms.int32))
        return ce, ce

    def construct(self, student_logits, teacher_logits, labels):
        return self.terms(student_logits, teacher_logits, labels)[0]
