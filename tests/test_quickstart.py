"""The README's main-job command, shortened: Ctrl-C stops the whole quick start, and the command it
prints continues it to the comparison table and picture."""
import json
import os
import shlex
import signal
import subprocess
import sys
import time


SHORT = ["schedule.epochs=2", "schedule.warmup_epochs=0", "schedule.milestones=[]"]


def _run(args, cwd, **kw):
    env = dict(os.environ, GLOG_v="3")
    return subprocess.run([sys.executable, "-m", "ats_ms.train"] + list(args), capture_output=True, text=True,
                          cwd=cwd, env=env, **kw)


def test_quickstart_interrupted_then_continued_with_the_printed_command(tmp_path):
    env = dict(os.environ, GLOG_v="3")
    root = os.path.join(tmp_path, "runs", "quickstart")  # where the shipped quick-start configs put their runs
    proc = subprocess.Popen([sys.executable, "-m", "ats_ms.train", "--quickstart"] + SHORT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path, env=env)
    log = os.path.join(root, "teacher_resnet14", "train.log")
    deadline = time.time() + 180
    while time.time() < deadline:
        if os.path.exists(log) and " step " in open(log).read():
            break
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out[-3000:]  # Ctrl-C stops the whole quick start...
    assert os.listdir(root) == ["teacher_resnet14"], "no student may start after Ctrl-C"
    command = shlex.split(out.split("Continue it with:\n")[1].splitlines()[0])
    assert command[:4] == ["python", "-m", "ats_ms.train", "--quickstart"] and command[-len(SHORT):] == SHORT

    done = _run(command[3:], tmp_path)  # ...and the command it prints finishes it
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert sorted(os.listdir(root)) == ["comparison.json", "comparison.md", "comparison.png", "student_resnet8_ats",
                                        "student_resnet8_ce", "student_resnet8_ts", "teacher_resnet14"]
    summaries = json.load(open(os.path.join(root, "comparison.json")))
    assert summaries["teacher"]["best_top1"] > 20  # chance is 10 % on digits
    for label, name in (("student_ce", "student_resnet8_ce"), ("student_ts", "student_resnet8_ts"),
                        ("student_ats", "student_resnet8_ats")):  # 8 steps on 100 images: too few to assert
        summary = json.load(open(os.path.join(root, name, "summary.json")))  # learning (test_train_e2e does)
        assert summary["steps"] == 2 * (100 // 32), label
        assert summaries[label]["best_top1"] == summary["best_top1"], label  # the table is the runs' own numbers
    assert summaries["student_ats"]["method"] == "ats" and summaries["student_ats"]["tau_wrong"] == 2.0
    assert "| student resnet8 | ATS | 100 | 4 / 2 |" in done.stdout and "| teacher resnet14 | CE | all | - |" in done.stdout
    assert open(os.path.join(root, "comparison.png"), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    # the closing line counts the training of every process, the interrupted one's included
    trained = sum(json.load(open(os.path.join(root, n, "summary.json")))["train_seconds"]
                  for n in ("teacher_resnet14", "student_resnet8_ce", "student_resnet8_ts", "student_resnet8_ats"))
    assert f"Training time of the four runs: {trained:.0f} s" in done.stdout

    # a shipped student config, run by hand from the same folder, finds the quick start's teacher
    again = _run(["--config", "quickstart/digits_student_ats", "experiment.name=by_hand"] + SHORT, tmp_path)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert "teacher resnet14: top1" in again.stdout
