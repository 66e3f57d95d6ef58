"""The PyTorch measurement of ``python -m ats_ms.bench --torch``: the same ATS step, in a process of its own started
with the user's environment (not ats_ms's CPU defaults), so PyTorch runs as a user would run it."""
from ats_ms.benchmark.timing import median_ms
from ats_ms.common.optional import require


def bench_torch(teacher_arch, student_arch, batch, classes, size, steps, reps, warmup, threads=None):
    """The same ATS step in PyTorch: teacher in eval mode under no_grad, SGD momentum 0.9, wd 5e-4."""
    torch = require("torch", "bench --torch")
    F = torch.nn.functional
    from ats_ms.interop.torch_reference import build_torch_model  # pylint: disable=import-outside-toplevel
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    teacher = build_torch_model(teacher_arch, classes).eval()
    student = build_torch_model(student_arch, classes).train()
    opt = torch.optim.SGD(student.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(batch, 3, size, size)
    y = torch.randint(0, classes, (batch,))
    onehot = F.one_hot(y, classes).float()
    tau = 2.0 + 2.0 * onehot  # tau_target 4, tau_wrong 2

    def step():
        with torch.no_grad():
            p = F.softmax(teacher(x) / tau, dim=1)
        logits = student(x)
        loss = 0.5 * F.cross_entropy(logits, y) + 0.5 * (-(p * F.log_softmax(logits, dim=1)).sum(1).mean())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    ms_per_step, used, steady = median_ms(step, steps, reps, warmup)
    return {"torch_kd_ms": round(ms_per_step, 1), "torch_kd_img_s": round(batch / ms_per_step * 1000, 1),
            "torch_kd_warmup_steps": used, "torch_kd_steady": steady,
            "torch_version": torch.__version__, "torch_threads": torch.get_num_threads(),
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability()}


