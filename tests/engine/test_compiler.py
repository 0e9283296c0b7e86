"""The compiler: inspectable source, disk cache across processes, sanitised identifiers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import xarray as xr

import engine
from engine.compiler import cache_dir


def test_source_is_inspectable_and_deterministic(teacup):
    first = engine.compile_model(teacup)
    second = engine.compile_model(teacup)
    assert first.source == second.source
    assert "def run_euler" in first.source and "def deriv" in first.source
    assert "# heat_loss" in first.source


def test_disk_cache_is_reused_by_a_second_process(tmp_path):
    script = textwrap.dedent("""
        import sys, time
        sys.path.insert(0, %r)
        from tests.conftest import teacup_model
        import engine
        import numba  # initialise numba before timing what corridor itself does
        start = time.perf_counter()
        compiled = engine.compile_model(teacup_model())
        print(compiled.key, time.perf_counter() - start)
    """) % str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, CORRIDOR_CACHE_DIR=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                           text=True, check=True).stdout.split() for _ in range(2)]
    assert runs[0][0] == runs[1][0]
    index_files = list((tmp_path / "__pycache__").glob("*.nbi"))
    assert index_files, "numba wrote no cache index"
    # the second process loads machine code instead of compiling: several times faster
    assert float(runs[1][1]) < float(runs[0][1]) / 2


def test_cache_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CORRIDOR_CACHE_DIR", str(tmp_path / "kernels"))
    assert cache_dir() == tmp_path / "kernels"
    assert (tmp_path / "kernels").is_dir()


def test_hostile_names_cannot_inject_code(tmp_path):
    marker = tmp_path / "pwned"
    evil = f"x\nimport os; os.system('touch {marker}')\n#"
    m = engine.Model(f"evil\n__import__('os').system('touch {marker}')")
    m.dimension(f"d\n{evil}", [f"e'\"\n{evil}", "ok"])
    m.param(evil, [1.0, 2.0], dims=(f"d\n{evil}",))
    m.stock(f"s'); {evil}", initial=1.0)
    m.flow(f"f\"\"\" {evil}", "1", into=f"s'); {evil}")
    compiled = engine.compile_model(m)
    assert "os.system" not in "".join(
        line for line in compiled.source.splitlines() if not line.lstrip().startswith("#"))
    ds = engine.simulate(m, start=0, stop=2, dt=1)
    assert not marker.exists()
    np.testing.assert_allclose(ds[f"s'); {evil}"].values, [1, 2, 3])
    assert list(ds[f"d\n{evil}"].values) == [f"e'\"\n{evil}", "ok"]


def test_fast_dataset_equals_public_constructor():
    from tests.engine.test_simulation import subscripted_model

    ds = engine.simulate(subscripted_model(), start=0, stop=2, dt=1)
    public = xr.Dataset({k: v.variable for k, v in ds.data_vars.items()},
                        coords={k: v.variable for k, v in ds.coords.items()}, attrs=ds.attrs)
    xr.testing.assert_identical(ds, public)
