"""Data read from files by a Vensim model (GET DIRECT/XLS DATA, CONSTANTS, LOOKUPS, SUBSCRIPT):
checked against PySD run on the same files, and the rules on which files may be read."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import engine
from engine import SpecError
from engine.testing import assert_frames_close, to_vensim_frame
from engine.vensim.external import stepped
from tests.engine.test_vensim import run_both, write_mdl

# time in column A, one series a column from B (a blank cell is a missing value)
SERIES = """time,s1,s2
0,1,10
2,,14
3,5,
5,4,20
"""


def model_with_data(tmp_path: Path, equations: str, data: str = SERIES) -> Path:
    (tmp_path / "data.csv").write_text(data)
    return write_mdl(tmp_path / "model.mdl", equations, final=7, dt=0.25)


@pytest.mark.parametrize("mode", ["", ":INTERPOLATE:", ":HOLD BACKWARD:", ":LOOK FORWARD:"])
def test_data_variable_matches_pysd_in_each_mode(tmp_path, mode):
    path = model_with_data(
        tmp_path,
        f"""
Region : north, south |
series[Region]{mode} := GET DIRECT DATA('data.csv', ',', 'A', 'B2') |
scalar{mode} := GET DIRECT DATA('data.csv', ',', 'A', 'C2') |
total = SUM(series[Region!]) + scalar |
""",
    )
    ours, reference = run_both(path)
    assert_frames_close(ours, reference, rtol=1e-12, atol=1e-12)


def test_constants_and_lookups_from_a_file_match_pysd(tmp_path):
    (tmp_path / "table.csv").write_text("x,1,2,4\ny,3,5,9\nc,7,8,\n")
    path = model_with_data(
        tmp_path,
        """
Region : north, south |
rate[Region] = GET DIRECT CONSTANTS('table.csv', ',', 'B3') |
one rate = GET DIRECT CONSTANTS('table.csv', ',', 'C3') |
shape = GET DIRECT LOOKUPS('table.csv', ',', '1', 'B2') |
read = shape(Time) * rate[north] + one rate |
""",
    )
    ours, reference = run_both(path)
    assert_frames_close(ours, reference, rtol=1e-12, atol=1e-12)
    assert ours["rate[south]"].iloc[0] == 8.0


def test_stepped_series_holds_and_looks_forward_exactly_at_points():
    from engine.kernels import _interp

    xs, ys = np.array([0.0, 2.0, 5.0]), np.array([1.0, 3.0, 4.0])
    for mode, expected in [
        ("hold_backward", {0: 1, 1: 1, 2: 3, 4.9: 3, 5: 4, 6: 4}),
        ("look_forward", {0: 1, 0.1: 3, 2: 3, 2.5: 4, 5: 4, 6: 4}),
        ("interpolate", {0: 1, 1: 2, 2: 3, 3.5: 3.5, 5: 4, 6: 4}),
    ]:
        table_x, table_y = stepped(xs, ys, mode)
        got = {t: _interp(table_x, table_y, float(t)) for t in expected}
        assert got == pytest.approx(expected), mode


def test_raw_data_mode_is_refused_naming_the_variable(tmp_path):
    path = model_with_data(
        tmp_path, "raw series:RAW: := GET DIRECT DATA('data.csv', ',', 'A', 'B2') |"
    )
    with pytest.raises(SpecError, match=r"raw series.*RAW"):
        engine.load(path)


@pytest.mark.parametrize(
    "name, why",
    [
        ("../outside.csv", "outside the model's folder"),
        ("{absolute}", "absolute path"),
        ("link.csv", "outside the model's folder"),
        ("notes.py", "not a spreadsheet"),
        ("missing.csv", "not found"),
        ("?indirect", "indirect reference"),
    ],
)
def test_data_files_only_from_the_model_folder(tmp_path, name, why):
    folder = tmp_path / "model"
    folder.mkdir()
    outside = tmp_path / "outside.csv"
    outside.write_text(SERIES)
    os.symlink(outside, folder / "link.csv")
    (folder / "notes.py").write_text("0,1\n")
    name = name.replace("{absolute}", str(outside))
    path = write_mdl(folder / "model.mdl", f"value = GET DIRECT CONSTANTS('{name}', ',', 'B2') |")
    with pytest.raises(SpecError, match=rf"variable 'value'.*{why}"):
        engine.load(path)


def test_a_model_reading_data_is_read_again_when_the_data_changes(tmp_path):
    path = model_with_data(tmp_path, "level = GET DIRECT CONSTANTS('data.csv', ',', 'B2') |")
    first = to_vensim_frame(engine.simulate(engine.load(path)))["level"].iloc[0]
    (tmp_path / "data.csv").write_text(SERIES.replace("0,1,10", "0,6,10"))
    second = to_vensim_frame(engine.simulate(engine.load(path)))["level"].iloc[0]
    assert (first, second) == (1.0, 6.0)


def test_subscript_range_read_from_a_file(tmp_path):
    (tmp_path / "names.csv").write_text("a,b,c\n1,2,3\n")
    path = model_with_data(
        tmp_path,
        """
Item : GET DIRECT SUBSCRIPT('names.csv', ',', 'A1', 'C1', 'item ') |
weight[Item] = GET DIRECT CONSTANTS('names.csv', ',', 'A2') |
total = SUM(weight[Item!]) |
""",
    )
    model = engine.load(path)
    assert list(model.dims["Item"].elements) == ["item a", "item b", "item c"]
    ours, reference = run_both(path)
    assert_frames_close(ours, reference, rtol=1e-12, atol=1e-12)
