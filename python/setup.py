"""Build sluice's Python package: first libsluice as a static,
position-independent library with the repository's CMake (release flags,
no sanitizers, in a build directory of its own), then one C extension per
folder of src/ (src/<name>/*.c -> sluice._<name>), each linked with that
static library and, dynamically, with the Debian libraries libsluice uses
(vectorscan, PCRE2, libcrypto, libfyaml, SQLite).

Environment:
  SLUICE_SOURCE_DIR     the repository (default: this folder's parent)
  SLUICE_CMAKE_BUILD    where CMake builds libsluice (default: under
                        setuptools' build_temp); kept between builds
  SLUICE_CMAKE_TARGETS  CMake targets to build (default "sluice_static";
                        scripts/python-test adds sluice_cli)
  SLUICE_JOBS           parallel build jobs (default 2)
  SLUICE_PY_BUILD       setuptools' build and egg-info folder (default: in
                        this folder); scripts/python-test keeps builds out
                        of the source tree so that several can run at once
"""
import glob
import os
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.environ.get("SLUICE_SOURCE_DIR") or os.path.join(HERE, ".."))
PKG_LIBS = ["libhs", "libpcre2-8", "libcrypto", "libfyaml", "sqlite3"]


def pkg_config(flag):
    out = subprocess.check_output(["pkg-config", flag, *PKG_LIBS], text=True)
    return out.split()


def extensions():
    exts = []
    src = os.path.join(HERE, "src")
    for name in sorted(os.listdir(src)):
        files = sorted(glob.glob(os.path.join(src, name, "*.c")))
        if not files:
            continue
        exts.append(
            Extension(
                f"sluice._{name}",
                sources=[os.path.relpath(f, HERE) for f in files],
                depends=[os.path.relpath(f, HERE) for f in
                         sorted(glob.glob(os.path.join(src, name, "*.h")))],
            )
        )
    return exts


class BuildExt(build_ext):
    """Builds libsluice.a with CMake, then the extensions against it."""

    def run(self):
        bdir = os.environ.get("SLUICE_CMAKE_BUILD") or os.path.join(
            os.path.abspath(self.build_temp), "libsluice"
        )
        if not os.path.exists(os.path.join(ROOT, "CMakeLists.txt")):
            raise RuntimeError(
                f"libsluice sources not found at {ROOT}: build from a clone "
                "(pip install ./python) or set SLUICE_SOURCE_DIR"
            )
        subprocess.check_call(
            [
                "cmake", "-S", ROOT, "-B", bdir,
                "-DCMAKE_BUILD_TYPE=Release",
                "-DSLUICE_PIC=ON",
                "-DSLUICE_BUILD_SERVE=OFF",  # the package needs no gateway
                "-DSLUICE_BUILD_TESTS=OFF",
                "-DSLUICE_WERROR=OFF",
                "-DSLUICE_SANITIZE=",
            ]
        )
        jobs = os.environ.get("SLUICE_JOBS", "2")
        targets = os.environ.get("SLUICE_CMAKE_TARGETS", "sluice_static").split()
        if "sluice_static" not in targets:
            targets.append("sluice_static")
        subprocess.check_call(
            ["cmake", "--build", bdir, "--target", *targets, "-j", jobs]
        )
        cflags = [f for f in pkg_config("--cflags") if f.startswith("-I")]
        for ext in self.extensions:
            ext.include_dirs += [
                os.path.join(ROOT, "include"),
                os.path.join(bdir, "include"),
                os.path.join(HERE, "src"),
            ]
            ext.extra_compile_args += [
                "-std=c17", "-O2", "-Wall", "-Wextra", "-Werror",
                "-Wno-missing-field-initializers", "-Wno-cast-function-type",
                *cflags,
            ]
            ext.extra_objects += [os.path.join(bdir, "libsluice.a")]
            ext.extra_link_args += [*pkg_config("--libs"), "-lpthread", "-lm"]
        super().run()


options = {}
if os.environ.get("SLUICE_PY_BUILD"):
    base = os.path.abspath(os.environ["SLUICE_PY_BUILD"])
    os.makedirs(base, exist_ok=True)
    options = {"build": {"build_base": base}, "egg_info": {"egg_base": base}}

setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt},
      options=options)
