"""Build the sluice package: one C extension per python/src/<name>/ directory
(-> sluice._<name>), each linked with libsluice built as a PIC static library
by CMake in ../build-python (override with SLUICE_BUILD_DIR)."""
import os
import subprocess
from glob import glob

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.environ.get("SLUICE_BUILD_DIR", os.path.join(ROOT, "build-python"))
DEPS = ["libhs", "libpcre2-8", "libcrypto", "libfyaml", "sqlite3"]


def pkg_config(flag):
    out = subprocess.check_output(["pkg-config", flag] + DEPS, text=True)
    return out.split()


class BuildWithLibsluice(build_ext):
    def run(self):
        subprocess.check_call(["cmake", "-S", ROOT, "-B", BUILD,
                               "-DCMAKE_BUILD_TYPE=Release",
                               "-DSLUICE_BUILD_TESTS=OFF"])
        subprocess.check_call(["cmake", "--build", BUILD, "--target",
                               "sluice_static", "-j", "2"])
        super().run()


def extensions():
    exts = []
    for d in sorted(glob(os.path.join(HERE, "src", "*"))):
        if not os.path.isdir(d):
            continue
        name = os.path.basename(d)
        exts.append(Extension(
            "sluice._" + name,
            sources=sorted(os.path.relpath(p, HERE)
                           for p in glob(os.path.join(d, "*.c"))),
            include_dirs=[os.path.join(ROOT, "include"),
                          os.path.join(BUILD, "include"), d],
            extra_compile_args=["-std=c17", "-O2", "-Wall", "-Wextra",
                                "-Wno-missing-field-initializers",
                                "-Wno-unused-parameter",
                                "-Werror"] + pkg_config("--cflags"),
            extra_objects=[os.path.join(BUILD, "libsluice.a")],
            extra_link_args=pkg_config("--libs") + ["-lpthread"],
        ))
    return exts


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildWithLibsluice})
