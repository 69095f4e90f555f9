"""The package build of the compiled tree solve (`setup.py`'s `build_ext`) and the order in
which `native_tree` finds a kernel: the library `pip install` built (only where its manifest
names the running jaxlib and source), then the first-use cache build, then pure JAX.

The build is run once into a temporary folder (a few seconds of compiling) with the
installed setuptools, and its library is checked against numpy's dense solve."""

import importlib.util
import json
import os
import shutil
import sysconfig
from pathlib import Path

import jax.numpy as jnp
import jaxlib
import numpy as np
import pytest
from tree_systems import dense_matrix

from dendrax.solvers import _native_build as build_info
from dendrax.solvers import native_tree
from dendrax.solvers.tree import build_tree_order

ROOT = Path(__file__).resolve().parents[2]


def _setup_module():
    """The repository's `setup.py` as a module (its `setup()` call runs only as __main__)."""
    spec = importlib.util.spec_from_file_location("dendrax_setup", ROOT / "setup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _has_compiler() -> bool:
    """Whether the compiler setuptools uses (`$CC`, else the interpreter's) is on PATH."""
    command = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return shutil.which(command.split()[0]) is not None


@pytest.fixture(scope="module")
def package_build(tmp_path_factory):
    """The folder of the package build's library and manifest (`build_lib/dendrax/solvers`)."""
    pytest.importorskip("setuptools")
    from setuptools import Distribution

    if build_info.jaxlib_headers() is None:
        pytest.skip("jaxlib's FFI headers are not installed: the package build skips the kernel")
    if not _has_compiler():
        pytest.skip("no C/C++ compiler here: the package build ships no library")
    setup = _setup_module()
    out = tmp_path_factory.mktemp("package_build")
    dist = Distribution(
        {"name": "dendrax", "ext_modules": setup.kernel_extensions(), "package_dir": {"": "src"}}
    )
    command = setup.BuildNativeKernel(dist)
    command.build_lib, command.build_temp = str(out / "lib"), str(out / "temp")
    cwd = os.getcwd()
    os.chdir(ROOT)  # setuptools takes extension sources relative to the project root
    try:
        command.ensure_finalized()
        command.run()
    finally:
        os.chdir(cwd)
    folder = out / "lib" / "dendrax" / "solvers"
    assert (folder / build_info.LIBRARY_NAME).is_file(), "the package build made no library"
    return folder


def _system(seed, n=120):
    """A random diagonally dominant tree system: (parent, (diag, upper, lower, rhs))."""
    rng = np.random.default_rng(seed)
    parent = np.array([-1] + [int(rng.integers(max(0, i - 5), i)) for i in range(1, n)])
    parent[rng.choice(np.arange(1, n), 2, replace=False)] = -1  # a forest of three trees
    upper = np.where(parent >= 0, rng.uniform(-1.0, -0.1, n), 0.0)
    lower = np.where(parent >= 0, rng.uniform(-1.0, -0.1, n), 0.0)
    return parent, (rng.uniform(2.5, 5.0, n), upper, lower, rng.normal(size=n))


def _copy_build(folder: Path, to: Path, **manifest_changes) -> Path:
    """A copy of the package build in `to`, with the manifest's entries changed."""
    to.mkdir()
    shutil.copy(folder / build_info.LIBRARY_NAME, to)
    found = json.loads((folder / build_info.MANIFEST_NAME).read_text())
    (to / build_info.MANIFEST_NAME).write_text(json.dumps({**found, **manifest_changes}))
    return to


def _solve_with(library, label, monkeypatch, system, dtype):
    """`_native_primal` on `system` (`(parent, arrays)`) with `library`'s handlers, registered
    under target names of their own, so that the kernel registered for the package stays."""
    targets = {d: f"dendrax_test_{label}_{d.name}" for d in native_tree._TARGETS}
    increments = {d: f"dendrax_test_{label}_increment_{d.name}" for d in native_tree._TARGETS}
    native_tree._register(library, targets, increments)
    with monkeypatch.context() as patch:
        patch.setattr(native_tree, "_TARGETS", targets)
        order = build_tree_order(system[0])
        return np.asarray(
            native_tree._native_primal(order, *(jnp.asarray(x, dtype) for x in system[1]))
        )


def test_the_package_build_solves_like_a_dense_solve(package_build, monkeypatch):
    """The library setup.py builds against numpy's dense solve: float64 within 1e-10,
    float32 finite and within 1e-4; its manifest names this source and the running jaxlib."""
    manifest = json.loads((package_build / build_info.MANIFEST_NAME).read_text())
    assert manifest == build_info.manifest(native_tree._SOURCE, jaxlib.__version__)
    path = native_tree._prebuilt(package_build)
    assert path == package_build / build_info.LIBRARY_NAME
    library = native_tree._load(path)
    assert library is not None
    for seed in (0, 1):
        parent, system = _system(seed)
        expected = np.linalg.solve(dense_matrix(parent, *system[:3]), system[3])
        got = _solve_with(library, "package", monkeypatch, (parent, system), jnp.float64)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
        single = _solve_with(library, "package", monkeypatch, (parent, system), jnp.float32)
        assert single.dtype == np.float32 and np.all(np.isfinite(single))
        np.testing.assert_allclose(single, expected, atol=1e-4)


def test_the_first_use_build_solves_as_the_package_build(package_build, tmp_path, monkeypatch):
    """`_build` into an empty cache (the fallback, unused in a process that has a prebuilt
    library): against numpy's dense solve within 1e-10 and the package build's library
    bit for bit (same source, compiler and optimisation flags)."""
    monkeypatch.setenv("DENDRAX_NATIVE_CACHE", str(tmp_path / "cache"))
    if not (os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")):
        pytest.skip("no C++ compiler for the first-use build")
    path = native_tree._build()
    assert path is not None and path.parent == tmp_path / "cache"
    assert native_tree._build() == path  # the second call finds it in the cache
    cached = native_tree._load(path)
    prebuilt = native_tree._load(package_build / build_info.LIBRARY_NAME)
    parent, system = _system(2)
    got = _solve_with(cached, "cache", monkeypatch, (parent, system), jnp.float64)
    expected = np.linalg.solve(dense_matrix(parent, *system[:3]), system[3])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
    same = _solve_with(prebuilt, "package", monkeypatch, (parent, system), jnp.float64)
    np.testing.assert_allclose(got, same, rtol=0, atol=1e-14)


def test_a_prebuilt_library_for_another_jaxlib_or_source_is_ignored(package_build, tmp_path):
    assert native_tree._prebuilt(_copy_build(package_build, tmp_path / "same")) is not None
    for name, change in (
        ("jaxlib", {"jaxlib": "0.0.1"}),
        ("source", {"source_sha256": build_info.source_digest("// another kernel\n")}),
        ("machine", {"machine": "another-cpu"}),
    ):
        assert native_tree._prebuilt(_copy_build(package_build, tmp_path / name, **change)) is None
    missing = _copy_build(package_build, tmp_path / "no_library")
    (missing / build_info.LIBRARY_NAME).unlink()
    assert native_tree._prebuilt(missing) is None
    no_manifest = _copy_build(package_build, tmp_path / "no_manifest")
    (no_manifest / build_info.MANIFEST_NAME).unlink()
    assert native_tree._prebuilt(no_manifest) is None


def test_the_kernel_comes_from_the_prebuilt_library_then_the_cache(
    package_build, tmp_path, monkeypatch
):
    """`_kernel`'s order, run uncached with registration recorded (not done, so that the
    package's own kernel stays registered): prebuilt where it matches, else the cache build,
    else none; a file that is no library is skipped."""
    registered = []
    monkeypatch.setattr(native_tree, "_register", lambda library: registered.append(library))

    def no_build():
        raise AssertionError("the first-use build ran although a prebuilt library matched")

    monkeypatch.setattr(native_tree, "_HERE", package_build)
    monkeypatch.setattr(native_tree, "_build", no_build)
    assert native_tree._kernel.__wrapped__() == "prebuilt" and len(registered) == 1

    monkeypatch.setattr(
        native_tree, "_HERE", _copy_build(package_build, tmp_path / "old", jaxlib="0.0.1")
    )
    monkeypatch.setattr(native_tree, "_build", lambda: package_build / build_info.LIBRARY_NAME)
    assert native_tree._kernel.__wrapped__() == "cache" and len(registered) == 2

    not_a_library = tmp_path / "broken.so"
    not_a_library.write_text("not a shared library")
    monkeypatch.setattr(native_tree, "_build", lambda: not_a_library)
    assert native_tree._kernel.__wrapped__() is None
    monkeypatch.setattr(native_tree, "_build", lambda: None)
    assert native_tree._kernel.__wrapped__() is None and len(registered) == 2


def test_a_matching_prebuilt_library_is_the_one_in_use():
    """In this process: the package's own prebuilt library where it has a matching one (an
    installed or editable package built with a compiler), else the cache build or none."""
    assert native_tree.native_source() in ("prebuilt", "cache", None)
    assert (native_tree.native_source() is not None) == native_tree.native_available()
    if native_tree._prebuilt() is not None:
        assert native_tree.native_source() == "prebuilt"
