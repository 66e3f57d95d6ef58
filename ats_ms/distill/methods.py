"""The one place the loss network of a run is built, from the methods of its students (``ats_ms.methods``)."""
from ats_ms import methods
from ats_ms.distill.cell import LossNet


def build_loss(cfg_distill):
    """The loss cell of ``cfg_distill.method`` (its method module builds it)."""
    return methods.get(cfg_distill.method).build(cfg_distill)


def build_loss_net(distill_cfgs, students, teacher=None, cached=False):
    """One training network for ``students`` (one ``distill`` config each) and ``teacher``, a ``FrozenTeacher``
    or None; with ``cached`` the teacher's logits come in as a third input instead."""
    losses = [build_loss(cfg) for cfg in distill_cfgs]
    return LossNet(students, losses, teacher=teacher, cached=cached)
