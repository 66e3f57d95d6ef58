"""The oneDNN convolution as a MindSpore operator: three AOT custom ops and the ``bprop`` tying them.

``mindspore.ops.Custom(func="<library>:<function>", func_type="aot")`` calls a C++ function of a compiled
library; its output shape comes from a Python function of the input shapes, and a Python ``bprop`` gives
the gradients.  The geometry travels as a third (constant) input, so one library function serves every
stride, padding and group count; its gradient is zero.
"""
from functools import lru_cache

from mindspore import ops


@lru_cache(maxsize=None)
def conv_op(library_path, geometry):
    """The forward op for ``geometry`` (a hashable Geometry), with its backward ops attached."""

    def forward_shape(x, w, _geometry):
        return geometry.output_shape(x, w)

    backward_data = ops.Custom(f"{library_path}:ats_conv_backward_data", out_shape=lambda dy, w, x, g: x,
                               out_dtype=lambda dy, w, x, g: x, func_type="aot")
    backward_weights = ops.Custom(f"{library_path}:ats_conv_backward_weights", out_shape=lambda dy, x, w, g: w,
                                  out_dtype=lambda dy, x, w, g: w, func_type="aot")
    zeros_like = ops.ZerosLike()

    def bprop(x, w, geo, out, dout):  # pylint: disable=unused-argument
        return backward_data(dout, w, x, geo), backward_weights(dout, x, w, geo), zeros_like(geo)

    forward = ops.Custom(f"{library_path}:ats_conv_forward", out_shape=forward_shape, out_dtype=lambda x, w, g: x,
                         func_type="aot", bprop=bprop)
    # The output shape lives in a Python closure that MindSpore does not compare: without an attribute that
    # differs, graph passes treat every forward op as one primitive and infer all shapes with one geometry.
    forward.add_prim_attr("ats_conv_geometry", tuple(int(v) for v in geometry.array()))
    return forward
