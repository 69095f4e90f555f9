"""The package build's one step beyond pyproject.toml: dendrax's optional compiled kernel.

`pip install .` (and `pip install -e .`) compiles `src/dendrax/solvers/tree_solve.cc`, an XLA
FFI handler, with setuptools' C++ compiler against the FFI headers of the jaxlib in the build
environment, into a plain shared library beside the source (`tree_solve_prebuilt.so`, loaded
with ctypes; it does not link against Python) and writes a manifest beside it naming that
jaxlib's version and the source's hash (`dendrax.solvers._native_build`); dendrax uses the
library only where both match at run time. Where compiling fails (no compiler, no jaxlib
headers), the install goes on without the library: dendrax then compiles the kernel on first
use, or solves in pure JAX.
"""

import importlib.util
import os
import shutil
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SOLVERS = Path("src", "dendrax", "solvers")
KERNEL = "dendrax.solvers.tree_solve_prebuilt"


def _build_info():
    """`dendrax.solvers._native_build`, loaded by path: dendrax cannot be imported here."""
    here = Path(__file__).resolve().parent
    spec = importlib.util.spec_from_file_location(
        "_dendrax_native_build", here / SOLVERS / "_native_build.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


INFO = _build_info()


def kernel_extensions() -> list[Extension]:
    """The kernel as an optional extension, or none where jaxlib's headers are missing."""
    headers = INFO.jaxlib_headers()
    if headers is None:
        print("dendrax: jaxlib's FFI headers not found; the compiled kernel is not built")
        return []
    return [
        Extension(
            KERNEL,
            sources=[str(SOLVERS / INFO.SOURCE_NAME)],
            include_dirs=[headers[0]],
            # -g0: the interpreter's own compile flags, which setuptools adds, carry -g.
            extra_compile_args=[*INFO.CXX_FLAGS, "-g0"],
            language="c++",
            optional=True,  # a failed compile is a warning; the install goes on
        )
    ]


class BuildNativeKernel(build_ext):
    """`build_ext` for a kernel that is a plain shared library, not a Python module: a name
    without the interpreter's suffix, the FFI handlers as its exports (no `PyInit_` function),
    and a manifest written beside it."""

    def get_ext_filename(self, fullname):
        # Called with the full name and (by `get_ext_fullpath`) with its last part only.
        if fullname in (KERNEL, KERNEL.rsplit(".", 1)[1]):
            return os.path.join(*fullname.split(".")[:-1], INFO.LIBRARY_NAME)
        return super().get_ext_filename(fullname)

    def get_export_symbols(self, ext):
        if ext.name == KERNEL:
            return list(INFO.EXPORTED_SYMBOLS)
        return super().get_export_symbols(ext)

    def _manifest_path(self, ext) -> Path:
        return Path(self.get_ext_fullpath(ext.name)).with_name(INFO.MANIFEST_NAME)

    def build_extension(self, ext):
        if ext.name != KERNEL:
            return super().build_extension(ext)
        source = Path(ext.sources[0]).read_text()
        version = INFO.jaxlib_headers()[1]
        # setuptools skips a library newer than its source; one built against another
        # jaxlib (its headers are not among the dependencies it checks) is built again.
        if INFO.read_manifest(self._manifest_path(ext)) != INFO.manifest(source, version):
            self.force = True
        super().build_extension(ext)  # raises where compiling fails (then no manifest)
        INFO.write_manifest(self._manifest_path(ext), source, version)

    def copy_extensions_to_source(self):
        super().copy_extensions_to_source()  # editable installs: the library into src/
        build_py = self.get_finalized_command("build_py")
        built = Path(self.build_lib, self.get_ext_filename(KERNEL)).with_name(INFO.MANIFEST_NAME)
        if any(ext.name == KERNEL for ext in self.extensions) and built.is_file():
            package_dir = build_py.get_package_dir(KERNEL.rsplit(".", 1)[0])
            shutil.copyfile(built, Path(package_dir) / INFO.MANIFEST_NAME)

    def get_outputs(self):
        outputs = super().get_outputs()
        return outputs + [
            str(self._manifest_path(ext)) for ext in self.extensions if ext.name == KERNEL
        ]


if __name__ == "__main__":  # setuptools' build backend runs this file as __main__
    setup(ext_modules=kernel_extensions(), cmdclass={"build_ext": BuildNativeKernel})
