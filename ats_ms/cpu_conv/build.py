"""Compile the oneDNN convolution library on first use, into a cache folder.

What the build needs, and where it looks:

- a C++17 compiler: ``$CXX``, else ``c++``, ``g++`` or ``clang++`` on the PATH;
- oneDNN 3.x headers (``oneapi/dnnl/dnnl.hpp``): ``$ATS_MS_ONEDNN_INCLUDE``, else wherever an installed
  ``onednn-devel-*`` package put them (``pip install "ats_ms[cpu]"``), read from that package's own record of its
  files, so they are found whatever ``sys.prefix`` says (a virtual environment's interpreter started with ``-S``
  does not know it runs in that environment); else the ``include`` folders of this Python environment, the user
  base, ``/usr/local/include`` and ``/usr/include`` (a distribution's ``libdnnl-dev``);
- the ``libdnnl.so.3`` MindSpore ships in ``mindspore/lib``: the library links that one, so one oneDNN
  serves the process (a second copy with the same soname would be shadowed by it anyway).

The result goes to ``$ATS_MS_CACHE_DIR`` (else ``$XDG_CACHE_HOME/ats_ms``, else ``~/.cache/ats_ms``) under
``cpu_conv/<key>/``, where the key hashes the source, the compiler, the headers' version and MindSpore's
library, so any change rebuilds.  Concurrent first uses (the workers of one launch) build once: a file
lock serialises them and the library is renamed into place complete.
"""
import fcntl
import hashlib
import importlib.util
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import tempfile

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onednn_conv.cpp")
LIBRARY_NAME = "libats_conv.so"
PARTIAL_PREFIX = ".building-"  # a compile in progress writes here, then renames it to LIBRARY_NAME
HEADER = os.path.join("oneapi", "dnnl", "dnnl.hpp")
INSTALL_HEADERS = 'pip install "ats_ms[cpu]" (oneDNN headers from PyPI)'


class Unavailable(Exception):
    """The fast convolution cannot be built or loaded here; ``fix`` says what would change that."""

    def __init__(self, reason, fix):
        super().__init__(reason)
        self.reason, self.fix = reason, fix


def cache_root():
    if os.environ.get("ATS_MS_CACHE_DIR"):
        return os.environ["ATS_MS_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "ats_ms")


def find_compiler():
    names = [os.environ["CXX"]] if os.environ.get("CXX") else ["c++", "g++", "clang++"]
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise Unavailable(f"no C++ compiler found ({', '.join(names)})",
                      "install one (Debian/Ubuntu: apt install g++; conda: conda install gxx_linux-64) or set CXX")


def installed_header_folders():
    """The include folders of installed ``onednn-devel`` packages, from each package's record of its files."""
    import importlib.metadata  # pylint: disable=import-outside-toplevel
    found = []
    for dist in importlib.metadata.distributions():
        name = (dist.metadata.get("Name") or "").lower().replace("_", "-")
        if not name.startswith("onednn-devel"):
            continue
        for entry in dist.files or ():
            if entry.as_posix().endswith("/" + HEADER.replace(os.sep, "/")):
                header = os.path.normpath(str(dist.locate_file(entry)))
                found.append(header[:-len(HEADER)].rstrip(os.sep))
    return found


def header_folders():
    """Where oneDNN headers may be, most specific first."""
    if os.environ.get("ATS_MS_ONEDNN_INCLUDE"):
        return [os.environ["ATS_MS_ONEDNN_INCLUDE"]]
    folders = installed_header_folders()
    folders += [os.path.join(sysconfig.get_path("data"), "include"), os.path.join(sys.prefix, "include")]
    user_base = getattr(site, "USER_BASE", None) or site.getuserbase()
    folders += [os.path.join(user_base, "include"), "/usr/local/include", "/usr/include"]
    return list(dict.fromkeys(folders))


def headers_version(folder):
    """(major, minor, patch) from ``dnnl_version.h``, or None."""
    path = os.path.join(folder, "oneapi", "dnnl", "dnnl_version.h")
    try:
        text = open(path, encoding="utf-8").read()
    except OSError:
        return None
    found = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "#define" and parts[1].startswith("DNNL_VERSION_") and parts[2].isdigit():
            found[parts[1][len("DNNL_VERSION_"):]] = int(parts[2])
    if not {"MAJOR", "MINOR", "PATCH"} <= set(found):
        return None
    return found["MAJOR"], found["MINOR"], found["PATCH"]


def find_headers():
    looked = header_folders()
    for folder in looked:
        if os.path.isfile(os.path.join(folder, HEADER)):
            version = headers_version(folder)
            if version and version[0] == 3:
                return folder, version
    raise Unavailable(f"no oneDNN 3.x headers found (looked for {HEADER} in {', '.join(looked)})",
                      f"{INSTALL_HEADERS}, or set ATS_MS_ONEDNN_INCLUDE to a folder holding {HEADER}")


def mindspore_onednn():
    spec = importlib.util.find_spec("mindspore")
    if spec is None or not spec.origin:
        raise Unavailable("MindSpore is not installed", "pip install 'mindspore>=2.10,<2.11'")
    path = os.path.join(os.path.dirname(spec.origin), "lib", "libdnnl.so.3")
    if not os.path.isfile(path):
        raise Unavailable(f"this MindSpore build ships no oneDNN 3 library ({path} is missing)",
                          "use runtime.cpu_conv: builtin (MindSpore's own convolution)")
    return path


def _compiler_id(compiler):
    try:
        out = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=60, check=False)
        return (out.stdout or out.stderr).splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return compiler


def build_key(compiler, headers, onednn_lib):
    digest = hashlib.sha256(open(SOURCE, "rb").read())
    stat = os.stat(onednn_lib)
    for part in (_compiler_id(compiler), repr(headers), onednn_lib, str(stat.st_size), str(int(stat.st_mtime))):
        digest.update(part.encode())
    return digest.hexdigest()[:16]


def compile_command(compiler, include, onednn_lib, output):
    lib_dir = os.path.dirname(onednn_lib)
    return [compiler, "-O2", "-std=c++17", "-fPIC", "-shared", SOURCE, f"-I{include}", f"-L{lib_dir}",
            "-l:libdnnl.so.3", f"-Wl,-rpath,{lib_dir}", "-lpthread", "-o", output]


def _remove_partial_builds(folder):
    for name in os.listdir(folder):
        if name.startswith(PARTIAL_PREFIX):
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass


def built_library():
    """Path of the compiled library, building it if this environment has not yet.  Raises Unavailable."""
    if not os.path.isfile(SOURCE):
        raise Unavailable(f"the convolution's source {SOURCE} is missing from this install",
                          "reinstall ats_ms (the wheel carries ats_ms/cpu_conv/onednn_conv.cpp)")
    onednn_lib = mindspore_onednn()
    compiler = find_compiler()
    include, version = find_headers()
    folder = os.path.join(cache_root(), "cpu_conv", build_key(compiler, version, onednn_lib))
    library = os.path.join(folder, LIBRARY_NAME)
    if os.path.isfile(library):
        _remove_partial_builds(folder)  # left by a build killed mid-compile; none runs once the library exists
        return library
    try:
        os.makedirs(folder, exist_ok=True)
        lock = open(os.path.join(folder, ".lock"), "w", encoding="utf-8")  # pylint: disable=consider-using-with
    except OSError as exc:
        raise Unavailable(f"cannot write the build cache {folder} ({exc.strerror})",
                          "set ATS_MS_CACHE_DIR to a writable folder") from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isfile(library):  # another process built it while this one waited
            return library
        _remove_partial_builds(folder)  # this process holds the build lock: any partial build is a dead one's
        fd, partial = tempfile.mkstemp(prefix=PARTIAL_PREFIX, suffix=".so", dir=folder)
        os.close(fd)
        command = compile_command(compiler, include, onednn_lib, partial)
        try:
            out = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            os.unlink(partial)
            raise Unavailable(f"the compiler could not run ({exc})", "check the compiler (set CXX)") from None
        if out.returncode != 0:
            os.unlink(partial)
            log = os.path.join(folder, "build.log")
            with open(log, "w", encoding="utf-8") as f:
                f.write(" ".join(command) + "\n\n" + out.stdout + out.stderr)
            first = next((line for line in out.stderr.splitlines() if "error" in line), out.stderr.strip()[:200])
            raise Unavailable(f"compiling the oneDNN convolution failed ({first.strip()}); full log: {log}",
                              "fix the compiler or headers named in the log, or use runtime.cpu_conv: builtin")
        os.replace(partial, library)
    return library
