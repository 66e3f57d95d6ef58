"""Which signal asked a run to stop, as the user sent it: SIGINT (Ctrl-C) or SIGTERM (a scheduler).

While a MindSpore graph runs (every training and evaluation step), MindSpore's GraphScheduler installs
``DefaultIntHandler`` for SIGINT, which sends SIGTERM to its own process.  A Ctrl-C would therefore
look like a scheduler's SIGTERM, and a run could not exit 130 for Ctrl-C and 143 for SIGTERM as shells
and schedulers expect.

The command-line entry points (``ats_ms.cli.run_cli``) call ``install()`` before MindSpore is imported:
SIGTERM is blocked in the main thread, so every thread MindSpore starts later inherits the block, and a
watcher thread takes each SIGTERM with ``sigwaitinfo``, which tells who sent it.  Sent by this very
process means MindSpore converted a SIGINT.  The watcher hands the signal to the running trainer's
listener (``set_listener``); with no listener it does what the signal would have done: SIGINT raises
KeyboardInterrupt in the main thread, SIGTERM terminates the process.

Library use (``import ats_ms`` in a notebook or script) installs nothing; there a Ctrl-C inside a graph
step is reported as SIGTERM, as MindSpore delivers it.
"""
import os
import signal
import sys
import threading
import _thread

_listener = None
_installed = False


def set_listener(callback):
    """``callback(signum)`` while a run can stop cleanly; None to restore the default actions."""
    global _listener  # pylint: disable=global-statement
    _listener = callback


def installed():
    return _installed


def _default_action(signum):
    if signum == signal.SIGINT:
        _thread.interrupt_main()
        return
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    os.kill(os.getpid(), signal.SIGTERM)  # disposition is SIG_DFL here: the process ends by SIGTERM


def _watch():
    while True:
        info = signal.sigwaitinfo({signal.SIGTERM})
        signum = signal.SIGINT if info.si_pid == os.getpid() else signal.SIGTERM
        callback = _listener
        if callback is not None:
            callback(signum)
        else:
            _default_action(signum)


def child_preexec():
    """``preexec_fn`` for subprocesses: a child inherits the blocked SIGTERM (the signal mask survives
    fork and exec) but not the watcher, so it unblocks it to stay stoppable by SIGTERM."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


def install():
    """Call before MindSpore is imported, from the main thread (see module doc)."""
    global _installed  # pylint: disable=global-statement
    if _installed or "mindspore" in sys.modules or not hasattr(signal, "sigwaitinfo") \
            or threading.current_thread() is not threading.main_thread():
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    threading.Thread(target=_watch, name="ats_ms-signal-watcher", daemon=True).start()
    _installed = True
