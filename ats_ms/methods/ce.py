"""``distill.method: none``: the network alone, cross-entropy on the labels (teachers, and the students'
baseline).  ``distill.label_smoothing`` smooths the labels."""
from ats_ms.methods.registry import Method, register


def build(distill):
    from ats_ms.losses.ce import CELoss  # pylint: disable=import-outside-toplevel  (MindSpore loads here)
    return CELoss(distill.label_smoothing)


register(Method(names=("none",), summary="cross-entropy on the labels only (no teacher)", build=build,
                describe=lambda d: "none (cross-entropy only)", needs_teacher=False))
