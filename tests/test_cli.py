"""ats_ms.cli, the behaviour every command shares: output into a pipe whose reader stops early (``| head``)
ends quietly, and ``--help`` only prints help."""
import os
import subprocess
import sys

import pytest

from train_helpers import REPO


def _piped_into_head(args, cwd=REPO):
    """Run ``python -m ARGS | head -1`` and return (its exit status, the first line, stderr)."""
    env = dict(os.environ, GLOG_v="3")
    proc = subprocess.Popen([sys.executable, "-m"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                            env=env)
    first = proc.stdout.readline()
    proc.stdout.close()  # the reader goes away, as head does after its line
    err = proc.stderr.read().decode()
    return proc.wait(timeout=120), first.decode(), err


@pytest.mark.parametrize("rows", [3, 600])  # output smaller and larger than the pipe's buffer
def test_output_into_a_closed_pipe_ends_quietly(tmp_path, rows):
    for i in range(rows):
        run = tmp_path / "runs" / f"r{i}"
        run.mkdir(parents=True)
        (run / "config.yaml").write_text(f"model: {{arch: resnet8}}\ndistill: {{method: none}}\ndata: {{name: digits}}\n"
                                         f"teacher: {{arch: null}}\nexperiment: {{seed: {i}}}\noptim: {{lr: {i + 1}}}\n")
        (run / "summary.json").write_text('{"best_top1": 50.0, "last_top1": 49.0, "epochs": 1}')
    code, first, err = _piped_into_head(["ats_ms.report", str(tmp_path / "runs")])
    assert first.startswith("| dataset") and "Traceback" not in err and "BrokenPipeError" not in err, err
    assert code in (0, 141)  # 141 (128 + SIGPIPE) when a write met the closed pipe, as for any command
    code, first, err = _piped_into_head(["ats_ms.configs"])
    assert first.startswith("shipped configs") and err == "" and code in (0, 141)


def test_cpu_conv_help_prints_help_and_builds_nothing(tmp_path):
    env = dict(os.environ, GLOG_v="3", ATS_MS_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-m", "ats_ms.cpu_conv", "--help"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith("usage: python -m ats_ms.cpu_conv")
    assert not (tmp_path / "cache").exists()  # no build, no self-test


def test_a_command_that_built_a_mindcv_network_exits_without_finalizer_tracebacks():
    """mindcv keeps its networks alive until interpreter shutdown, where MindSpore's Cell.__del__ used to print a
    traceback for every cell."""
    pytest.importorskip("mindcv", reason="the mindcv extra is not installed")
    code = ("import sys\nfrom ats_ms.cli import run_cli\n"
            "def main(argv):\n    global net\n    from ats_ms.models import create_model\n"
            "    net = create_model('mindcv:resnet18', 10)\n    return 0\n"
            "sys.exit(run_cli(main))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300,
                          env=dict(os.environ, GLOG_v="3"))
    assert proc.returncode == 0 and "Exception ignored" not in proc.stderr, proc.stderr[-2000:]


def test_every_command_names_its_output_file_with_output(tmp_path):
    """--output FILE is the one spelling (a .json name gets the JSON form); --json, the older one, still works."""
    import json
    from ats_ms.report import main as report_main
    run = tmp_path / "runs" / "r"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text("model: {arch: resnet8}\ndistill: {method: none}\ndata: {name: digits}\n")
    (run / "summary.json").write_text('{"best_top1": 50.0, "last_top1": 49.0, "epochs": 1}')
    assert report_main([str(tmp_path / "runs"), "--output", str(tmp_path / "t.md"), "--output",
                        str(tmp_path / "rows.json"), "--json", str(tmp_path / "old.json")]) == 0
    assert (tmp_path / "t.md").read_text().startswith("| dataset")
    assert json.loads((tmp_path / "rows.json").read_text()) == json.loads((tmp_path / "old.json").read_text())
