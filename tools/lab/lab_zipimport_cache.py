"""Lab guests only: keep the bytecode that zipimport compiles from source.

Ansible sends every module run as a zip of Python sources. zipimport cannot
write .pyc files, so each task compiles ansible.module_utils.basic and its
imports again: about 0.6 s of a 1.4 s module run in an emulated guest.
This hook (loaded by a .pth file in the lab image, never shipped to users)
caches each compiled module under /var/cache/lab-zipimport, keyed by a hash
of its path inside the zip, its source and the Python version, so the code
run is always compiled from exactly the source that was sent.
"""
import hashlib
import marshal
import os
import sys
import zipimport

CACHE_DIR = "/var/cache/lab-zipimport"
_compile_source = getattr(zipimport, "_compile_source", None)


def _with_filename(code, filename):
    """The cached code with the current zip path, so tracebacks name it."""
    consts = tuple(_with_filename(c, filename) if isinstance(c, type(code)) else c
                   for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def _cached_compile(pathname, source):
    inner = pathname.split(".zip" + os.sep, 1)[-1]
    key = hashlib.sha256(b"\0".join([sys.version.encode(), inner.encode(), source])).hexdigest()
    cached = os.path.join(CACHE_DIR, key)
    try:
        with open(cached, "rb") as handle:
            return _with_filename(marshal.loads(handle.read()), pathname)
    except (OSError, ValueError, EOFError, TypeError):
        pass
    code = _compile_source(pathname, source)
    try:
        os.makedirs(CACHE_DIR, mode=0o700, exist_ok=True)
        tmp = "%s.%d" % (cached, os.getpid())
        with open(tmp, "wb") as handle:
            handle.write(marshal.dumps(code))
        os.replace(tmp, cached)
    except OSError:
        pass  # a cache that cannot be written only costs the time it would save
    return code


if _compile_source is not None and os.geteuid() == 0 and hasattr(type(_cached_compile.__code__), "replace"):
    zipimport._compile_source = _cached_compile
