"""ats_ms.sweep's grid: axes over one key (a product) and over several keys at once (listed points)."""
from ats_ms.sweep import parse_grid, points


def test_a_product_of_single_key_axes():
    grid = parse_grid(["distill.tau_target=4,6", "distill.tau_wrong=2"])
    assert list(points(grid, [0, 1])) == [
        ("tau_target=4__tau_wrong=2__seed=0", ["distill.tau_target=4", "distill.tau_wrong=2", "experiment.seed=0"]),
        ("tau_target=4__tau_wrong=2__seed=1", ["distill.tau_target=4", "distill.tau_wrong=2", "experiment.seed=1"]),
        ("tau_target=6__tau_wrong=2__seed=0", ["distill.tau_target=6", "distill.tau_wrong=2", "experiment.seed=0"]),
        ("tau_target=6__tau_wrong=2__seed=1", ["distill.tau_target=6", "distill.tau_wrong=2", "experiment.seed=1"]),
    ]


def test_an_axis_over_two_keys_lists_points_not_a_product():
    grid = parse_grid(["distill.tau_target,distill.tau_wrong=4:4, 4:2,6:3", "optim.lr=0.1"])
    names = [name for name, _ in points(grid, [0])]
    assert names == ["tau_target=4__tau_wrong=4__lr=0.1__seed=0", "tau_target=4__tau_wrong=2__lr=0.1__seed=0",
                     "tau_target=6__tau_wrong=3__lr=0.1__seed=0"]
    assert dict(points(grid, [0]))[names[2]] == ["distill.tau_target=6", "distill.tau_wrong=3", "optim.lr=0.1",
                                                 "experiment.seed=0"]
