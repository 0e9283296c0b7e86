"""The horizon store: horizon splits, names with "/", zarr and netCDF, provenance, and stores
made by another configuration left untouched."""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import engine
from engine.store import HORIZONS, SLASH, select_horizons

PRIORS = {"k": ("uniform", 0.05, 0.2)}


def decay(name: str = "decay") -> engine.Model:
    m = engine.Model(name, time_unit="year")
    m.param("k", 0.1, bounds=(0, 1), units="1/year")
    m.stock("x", initial=100.0, units="person", doc="People still here.")
    m.flow("loss", "k * x", out_of="x", units="person/year")
    m.aux("per/capita", "loss / x", units="1/year")
    m.aux("half_life", "0.693 / k", units="year")  # non-finite when k = 0
    return m


@pytest.fixture(scope="module")
def model():
    return decay()


def snapshot(path: Path) -> dict[str, str]:
    """Every file of a store with the hash of its bytes."""
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


# ---------------------------------------------------------------------------- horizons


def test_default_horizons_split_a_run_by_design_md(model):
    ds = engine.simulate(model, start=2025, stop=2100, dt=0.25)
    tree = engine.horizons(ds)
    short, medium, long = (tree[h]["time"].values for h in ("short", "medium", "long"))
    np.testing.assert_allclose(short, 2025 + 0.25 * np.arange(20))
    np.testing.assert_allclose(medium, np.arange(2030, 2045))
    np.testing.assert_allclose(long, np.arange(2045, 2101, 5))
    for h in ("short", "medium", "long"):
        expected = ds["x"].sel(time=tree[h]["time"].values).values
        np.testing.assert_array_equal(tree[h]["x"].values, expected)
    assert "k" in tree.to_dataset(inherit=False)  # no time dim: in the root
    assert tree["short"]["x"].attrs["units"] == "person"


def test_short_horizon_saves_every_step_when_dt_is_larger_than_a_quarter(model):
    tree = engine.horizons(engine.simulate(model, start=0, stop=30, dt=1))
    np.testing.assert_allclose(tree["short"]["time"].values, [0, 1, 2, 3, 4])
    np.testing.assert_allclose(tree["long"]["time"].values, [20, 25, 30])


def test_last_horizon_holds_the_stop_time_off_its_grid(model):
    tree = engine.horizons(engine.simulate(model, start=0, stop=32, dt=1))
    np.testing.assert_allclose(tree["long"]["time"].values, [20, 25, 30, 32])


def test_horizons_are_disjoint_and_cover_start_to_stop():
    times = np.round(2025 + 0.125 * np.arange(601), 10)
    chosen = select_horizons(times, 2025.0, 2100.0, HORIZONS)
    every = np.concatenate(list(chosen.values()))
    assert len(every) == len(set(every.tolist()))
    assert times[every.min()] == 2025 and times[every.max()] == 2100


def test_other_time_units_get_one_group_all_unless_horizons_are_given():
    m = engine.Model("cup", time_unit="minute")
    m.stock("t", initial=180)
    m.flow("cooling", "(t - 70) / 10", out_of="t")
    ds = engine.simulate(m, start=0, stop=30, dt=0.5, saveper=1)
    tree = engine.horizons(ds)
    assert list(tree.children) == ["all"]
    np.testing.assert_allclose(tree["all"]["time"].values, np.arange(31))
    custom = engine.horizons(ds, {"first": (0, 10, 2), "rest": (10, None, None)})
    np.testing.assert_allclose(custom["first"]["time"].values, [0, 2, 4, 6, 8])
    np.testing.assert_allclose(custom["rest"]["time"].values, np.arange(10, 31))


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"a": (5, 1, 1)}, "must be after"),
        ({"a": (0, 5, 0)}, "resolution"),
        ({"a/b": (0, 5, 1)}, "without '/'"),
        ({"a": "soon"}, "give \\(from, to, resolution\\)"),
    ],
)
def test_bad_horizons_raise_store_error(model, spec, message):
    ds = engine.simulate(model, start=0, stop=10, dt=1)
    with pytest.raises(engine.StoreError, match=message):
        engine.horizons(ds, spec)


def test_slash_names_are_encoded_in_stores_and_restored_on_read(model, tmp_path):
    tree = engine.horizons(engine.simulate(model, start=0, stop=30, dt=1))
    encoded = f"per{SLASH}capita"
    assert encoded in tree["short"] and tree["short"][encoded].attrs["name"] == "per/capita"
    tree.to_zarr(tmp_path / "one.zarr", zarr_format=3, consolidated=False)
    assert (tmp_path / "one.zarr" / "short" / encoded).is_dir()
    back = engine.open_store(tmp_path / "one.zarr", group="short")
    assert "per/capita" in back.data_vars and encoded not in back.data_vars
    np.testing.assert_array_equal(back["per/capita"].values, tree["short"][encoded].values)
    assert engine.store.restore_names(tree["short"].to_dataset())["per/capita"].size == 5
    with pytest.raises(engine.StoreError, match="no group 'middle'"):
        engine.open_store(tmp_path / "one.zarr", group="middle")


# ---------------------------------------------------------------------------- ensemble stores


def sweep(model, store, **changes):
    arguments = dict(
        n=12,
        seed=5,
        design="lhs",
        priors=PRIORS,
        start=2025,
        stop=2060,
        dt=0.5,
        chunk_size=5,
        progress=False,
        store=store,
    )
    arguments.update(changes)
    return engine.run_ensemble(model, **arguments)


def test_ensemble_store_names_provenance_and_cf_attrs(model, tmp_path):
    tree = sweep(model, tmp_path / "s.zarr")
    assert f"per{SLASH}capita" in tree["short"].data_vars
    assert (tmp_path / "s.zarr" / "short" / f"per{SLASH}capita").is_dir()
    assert "per/capita" in engine.open_store(tmp_path / "s.zarr", group="summary/short")
    attrs = tree.attrs
    assert attrs["model_hash"] == model.content_hash()
    assert attrs["design"] == "lhs" and attrs["seed"] == 5 and attrs["members"] == 12
    assert json.loads(attrs["priors"]) == {"k": "('uniform', 0.05, 0.2)"}
    assert json.loads(attrs["parameters"])["k"] == 0.1
    versions = json.loads(attrs["package_versions"])
    assert {"numpy", "numba", "xarray", "zarr", "SALib"} <= set(versions)
    assert "data_versions" in attrs and attrs["complete"] is True
    x = tree["medium"]["x"]
    assert x.attrs["units"] == "person" and x.attrs["long_name"] == "People still here."
    assert tree["medium"]["time"].attrs["units"] == "year"
    assert x.dims == ("member", "time")


def test_store_of_another_configuration_raises_and_is_left_untouched(model, tmp_path):
    path = tmp_path / "s.zarr"
    sweep(model, path)
    before = snapshot(path)
    with pytest.raises(engine.StoreError, match="differs in: seed"):
        sweep(model, path, seed=6)
    with pytest.raises(engine.StoreError, match="model_hash"):
        sweep(decay("other"), path)
    with pytest.raises(engine.StoreError, match="priors"):
        sweep(model, path, priors={"k": ("uniform", 0.05, 0.3)})
    assert snapshot(path) == before


def test_finished_store_run_again_changes_nothing(model, tmp_path):
    path = tmp_path / "s.zarr"
    first = sweep(model, path)
    before = snapshot(path)
    again = sweep(model, path, chunk_size=3)  # chunking does not matter to a finished store
    assert snapshot(path) == before
    xr.testing.assert_identical(first["long"].to_dataset(), again["long"].to_dataset())


def test_a_finished_store_opens_from_its_consolidated_metadata_never_stale(model, tmp_path):
    """A complete store holds every node's metadata in its root (one file to open); it is
    dropped before the store changes again (a resume, a rewritten group), so a reader never
    sees a stale copy."""
    from engine.store.zarr import CONSOLIDATED, ZarrStore

    path = tmp_path / "s.zarr"
    tree = sweep(model, path)
    root = json.loads((path / "zarr.json").read_bytes())
    nodes = root[CONSOLIDATED]["metadata"]
    assert "long/x" in nodes and "summary/long" in nodes
    # read from the consolidated copy: a child's own metadata file is not needed to open
    own = path / "long" / "x" / "zarr.json"
    kept = own.read_bytes()
    own.unlink()
    again = engine.open_store(path)
    xr.testing.assert_identical(tree["long"].to_dataset(), again["long"].to_dataset())
    chunk = next((path / "long" / "x").glob("c*"))
    data = bytearray(chunk.read_bytes())
    data[-1] ^= 0xFF
    chunk.write_bytes(bytes(data))  # its chunks are still checked, from the root's copy
    with pytest.raises(engine.StoreError, match="checksum"):
        engine.open_store(path)["long"]["x"].load()
    own.write_bytes(kept)
    data[-1] ^= 0xFF
    chunk.write_bytes(bytes(data))
    # a change drops it first: the root then lists no nodes, and readers read file by file
    sink = ZarrStore(path, layout=None)  # type: ignore[arg-type]
    sink.set_attrs({"note": "edited"})
    assert CONSOLIDATED not in json.loads((path / "zarr.json").read_bytes())
    assert engine.open_store(path).attrs["note"] == "edited"
    sink.write_group("summary/extra", xr.Dataset({"v": ("i", np.arange(3.0))}))
    assert "extra" in engine.open_store(path)["summary"].children
    sink.set_attrs({"complete": True})  # the end of a sweep consolidates again, new group in
    assert (
        "summary/extra" in json.loads((path / "zarr.json").read_bytes())[CONSOLIDATED]["metadata"]
    )


def test_paths_that_are_not_stores_raise_before_any_work(tmp_path):
    model = decay("fresh")  # never compiled
    (tmp_path / "file.zarr").write_text("not a store")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "notes.txt").write_text("mine")
    for path, message in (
        (tmp_path / "file.zarr", "is a file"),
        (tmp_path / "dir", "not a zarr store"),
    ):
        before = snapshot(path) if path.is_dir() else path.read_text()
        with pytest.raises(engine.StoreError, match=message):
            sweep(model, path)
        assert (snapshot(path) if path.is_dir() else path.read_text()) == before
    assert not hasattr(model, "_compiled_cache")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_store_path_raises_before_any_work_as_user(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    model = decay("fresh")
    try:
        with pytest.raises(engine.StoreError, match="not a writable directory"):
            sweep(model, locked / "s.zarr")
    finally:
        locked.chmod(0o700)
    assert not hasattr(model, "_compiled_cache")


def test_unwritable_store_path_raises_before_any_work():
    model = decay("fresh")
    with pytest.raises(engine.StoreError, match="not a writable directory"):
        sweep(model, "/proc/corridor/s.zarr")
    assert not hasattr(model, "_compiled_cache")


def test_netcdf_export_of_a_finished_store(model, tmp_path):
    tree = sweep(model, tmp_path / "s.zarr", design="saltelli", n=4)
    target = engine.export_netcdf(tmp_path / "s.zarr", tmp_path / "s.nc")
    back = engine.open_store(target)
    for group in ("short", "medium", "long", "summary/long", "sensitivity/long"):
        xr.testing.assert_allclose(
            back[group].to_dataset(inherit=False).load(),
            tree[group].to_dataset(inherit=False).load(),
        )
    assert "per/capita" in engine.open_store(target, group="long").data_vars
    assert back.attrs["model_hash"] == model.content_hash()


def test_netcdf_export_refuses_an_unfinished_store(model, tmp_path):
    path = tmp_path / "s.zarr"
    sweep(model, path)
    import zarr

    zarr.open_group(str(path), mode="r+").attrs["complete"] = False
    with pytest.raises(engine.StoreError, match="unfinished"):
        engine.export_netcdf(path, tmp_path / "s.nc")
    assert not (tmp_path / "s.nc").exists()


def test_open_store_errors(tmp_path):
    with pytest.raises(engine.StoreError, match="no store"):
        engine.open_store(tmp_path / "missing.zarr")


# ---------------------------------------------------------------------------- the Sink protocol


def _protocol_methods(protocol: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(protocol, inspect.isfunction)
        if not name.startswith("_")
    }


def _shape(signature: inspect.Signature) -> list[tuple[str, object, bool]]:
    """(name, kind, has a default) of each parameter: what a caller relies on."""
    return [(p.name, p.kind, p.default is not p.empty) for p in signature.parameters.values()]


def test_both_stores_implement_the_sink_protocol(model, tmp_path):
    from engine.ensemble import plan_ensemble
    from engine.store import MemoryStore, Reader, Sink, ZarrStore

    plan, _, _ = plan_ensemble(model, n=4, seed=0, priors=PRIORS, start=2025, stop=2030, dt=0.5)
    methods = _protocol_methods(Sink)
    assert {
        "read",
        "chunks",
        "release",
        "pending",
        "write_chunk",
        "set_attrs",
        "write_group",
        "tree",
        "close",
    } <= set(methods)
    sinks = [MemoryStore(plan.layout, {}), ZarrStore(tmp_path / "s.zarr", plan.layout)]
    for sink in sinks:
        assert isinstance(sink, Sink) and isinstance(sink, Reader)
        assert sink.layout is plan.layout
        for name, expected in methods.items():
            got = inspect.signature(getattr(type(sink), name))
            assert _shape(got) == _shape(expected), (type(sink).__name__, name)
            # the annotations as written (postponed, so strings) say the same types
            assert str(got) == str(expected), (type(sink).__name__, name)
    assert not isinstance(object(), Sink)
    # the horizon tree's reader (analyze) reads like a sink
    from engine.analyze import _TreeReader

    assert isinstance(_TreeReader(xr.DataTree()), Reader)
    assert not isinstance(_TreeReader(xr.DataTree()), Sink)


# ---------------------------------------------------------------------------- horizon names


def test_horizon_names_are_read_back_whatever_they_are(model, tmp_path):
    from engine.store import horizon_names

    run = engine.simulate(model, start=0, stop=30, dt=1)
    custom = {"zeta": (0, 10, 1), "alpha": (10, None, 5)}  # time order is not name order
    assert horizon_names(engine.horizons(run, custom)) == ["zeta", "alpha"]
    assert horizon_names(engine.horizons(run)) == ["short", "medium", "long"]
    tree = sweep(model, tmp_path / "s.zarr", horizons=custom)
    assert horizon_names(tree) == ["zeta", "alpha"]  # summary/sensitivity are not horizons
    assert horizon_names(engine.open_store(tmp_path / "s.zarr")) == ["zeta", "alpha"]
    assert list(engine.summarize(tree).children) == ["zeta", "alpha"]
    # an attribute that is not a horizon mapping (a store written by someone else) is ignored
    for damaged in ("not json", "[1, 2]", 3, '{"gone": [0, null, null]}'):
        other = tree.copy()
        other.attrs["horizons"] = damaged
        assert horizon_names(other) == ["zeta", "alpha"]  # every timed group, by time
    other = tree.copy()
    other.attrs["horizons"] = '{"alpha": [10, null, 5]}'
    assert horizon_names(other) == ["alpha"]  # the attribute says which groups are horizons
