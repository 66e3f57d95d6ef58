"""Where the dynamic loader would find a shared library, answered without loading it.

The order follows ld.so: the asking library's RPATH, ``LD_LIBRARY_PATH``, the ``ldconfig`` cache, then the
default folders.  Libraries that ats_ms preloads from the ``nvidia-*-cu11`` wheels (``ats_ms.process.gpu_libs``)
count as found: the loader reuses an already-loaded library of the same soname.
"""
import os
import subprocess

DEFAULT_DIRS = ("/lib64", "/usr/lib64", "/lib", "/usr/lib", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
                "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib/wsl/lib")
SYSTEM_LIBS = ("libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libpthread.so.0", "libdl.so.2",
               "librt.so.1", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1")


def ldconfig_cache():
    """soname -> path from ``ldconfig -p`` (empty if ldconfig is unavailable)."""
    for tool in ("ldconfig", "/sbin/ldconfig", "/usr/sbin/ldconfig"):
        try:
            out = subprocess.run([tool, "-p"], capture_output=True, text=True, timeout=20, check=False).stdout
        except (OSError, subprocess.TimeoutExpired):
            continue
        cache = {}
        for line in out.splitlines()[1:]:
            name, _, target = line.strip().partition(" => ")
            soname = name.split(" (")[0].strip()
            if soname and target:
                cache.setdefault(soname, target.strip())
        return cache
    return {}


class Resolver:
    def __init__(self, preloaded=None, extra_dirs=(), env=None):
        env = os.environ if env is None else env
        self.preloaded = dict(preloaded or {})
        self.ld_library_path = [d for d in env.get("LD_LIBRARY_PATH", "").split(":") if d]
        self.extra_dirs = list(extra_dirs)
        self.cache = ldconfig_cache()

    def find(self, soname, rpath=()):
        """(path, how it was found) or (None, None)."""
        if soname in self.preloaded:
            return self.preloaded[soname], "pip wheel"
        for label, folders in (("RPATH", rpath), ("LD_LIBRARY_PATH", self.ld_library_path)):
            for folder in folders:
                path = os.path.join(folder, soname)
                if os.path.exists(path):
                    return path, label
        if soname in self.cache:
            return self.cache[soname], "ldconfig"
        for folder in list(self.extra_dirs) + list(DEFAULT_DIRS):
            path = os.path.join(folder, soname)
            if os.path.exists(path):
                return path, "system"
        return None, None
