"""Vensim and XMILE semantics that once gave a wrong number without an error (issue 16).

Each has a small model of its own, checked against the value Vensim's documented rule gives,
and the SDXorg model where it was found, checked against the tool's own output (read from
``../shared/conformance``; skipped when that folder is absent).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engine
from engine.testing import assert_frames_close, to_vensim_frame
from tests.conftest import TEST_MODELS
from tests.engine.test_vensim import check_against_pysd, write_mdl

needs_models = pytest.mark.skipif(
    not TEST_MODELS.exists(), reason=f"shared conformance models not found at {TEST_MODELS}"
)


def write_xmile(
    path: Path, variables: str, *, stop: float = 4, dt: float = 1, dims: str = ""
) -> Path:
    """An XMILE file of the given ``<variables>`` (and ``<dimensions>``) content, run from 0
    to ``stop``."""
    path.write_text(
        f"""<xmile xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0" version="1.0">
    <header><vendor>test</vendor><product lang="en">test</product></header>
    <sim_specs method="Euler" time_units="Months">
        <start>0</start><stop>{stop}</stop><dt>{dt}</dt>
    </sim_specs>
    <dimensions>{dims}</dimensions>
    <model><variables>{variables}</variables></model>
</xmile>
"""
    )
    return path


def first_row(path: Path) -> pd.Series:
    return to_vensim_frame(engine.simulate(engine.load(path))).iloc[0]


# ---------------------------------------------------------------- exponentiation
def test_vensim_exponentiation_groups_to_the_right(tmp_path):
    """Vensim reads ``a^b^c`` as ``a^(b^c)`` and a minus sign before a power as the negative
    of the power (the SDXorg arithmetics model: 4^3^2 = 262144)."""
    path = write_mdl(
        tmp_path / "powers.mdl",
        """
a = 4 | b = 3 | c = 2 | d = 1.2 |
chain = a^b^c |
grouped left = (a^b)^c |
three = 30^d^d |
negative base = -c^c |
negative exponent = c^-c^-b |
mixed = 2 * a^b^c / 8 |
""",
    )
    row = first_row(path)
    assert row["chain"] == 4.0 ** (3.0**2.0) == 262144.0
    assert row["grouped left"] == (4.0**3.0) ** 2.0
    assert row["three"] == pytest.approx(30.0 ** (1.2**1.2), rel=1e-12)
    assert row["negative base"] == -4.0
    assert row["negative exponent"] == pytest.approx(2.0 ** (-(2.0**-3.0)), rel=1e-12)
    assert row["mixed"] == 2 * 262144.0 / 8


def test_xmile_exponentiation_groups_to_the_right(tmp_path):
    path = write_xmile(
        tmp_path / "powers.xmile",
        """<aux name="base"><eqn>1.2</eqn></aux>
           <aux name="chain"><eqn>30 ^ base ^ base</eqn></aux>""",
    )
    assert first_row(path)["chain"] == pytest.approx(30.0 ** (1.2**1.2), rel=1e-12)


# ---------------------------------------------------------------- XMILE builtins
def test_xmile_pi_and_one_argument_min_max(tmp_path):
    path = write_xmile(
        tmp_path / "builtins.xmile",
        """<aux name="weight"><dimensions><dim name="Region"/></dimensions>
               <element subscript="north"><eqn>3</eqn></element>
               <element subscript="mid"><eqn>-2</eqn></element>
               <element subscript="south"><eqn>TIME</eqn></element></aux>
           <aux name="smallest"><eqn>MIN(weight)</eqn></aux>
           <aux name="largest"><eqn>MAX(weight)</eqn></aux>
           <aux name="pair"><eqn>MAX(weight[north], 1)</eqn></aux>
           <aux name="circle"><eqn>2 * PI()</eqn></aux>""",
        dims="""<dim name="Region"><elem name="north"/><elem name="mid"/><elem name="south"/>
                </dim>""",
    )
    frame = to_vensim_frame(engine.simulate(engine.load(path)))
    time = frame.index.to_numpy(dtype=float)
    np.testing.assert_array_equal(frame["smallest"], np.full_like(time, -2.0))
    np.testing.assert_array_equal(frame["largest"], np.maximum(time, 3.0))
    assert frame["pair"].iloc[0] == 3.0
    assert frame["circle"].iloc[0] == 2 * np.pi


# ---------------------------------------------------------------- XMILE names
def test_xmile_names_are_kept_as_written_and_reached_in_either_spelling(tmp_path):
    """XMILE treats ``_`` in a name as a space; each variable keeps the name its file gives
    it (the SDXorg outputs use both spellings), and references in either spelling reach it."""
    path = write_xmile(
        tmp_path / "names.xmile",
        """<aux name="growth_rate"><eqn>0.5</eqn></aux>
           <aux name="Doubled rate"><eqn>"growth rate" * 2</eqn></aux>
           <stock name="Stock_A"><eqn>1</eqn><inflow>inflow_A</inflow></stock>
           <flow name="inflow A"><eqn>Stock_A * growth_rate</eqn></flow>""",
    )
    model = engine.load(path)
    assert {"growth_rate", "Doubled rate", "Stock_A", "inflow A"} <= set(model.variables)
    frame = to_vensim_frame(engine.simulate(model))
    np.testing.assert_allclose(frame["Stock_A"].to_numpy(), 1.5 ** np.arange(5.0))
    assert frame["Doubled rate"].iloc[0] == 1.0


# ---------------------------------------------------------------- the SDXorg models
def canonical(folder: Path, name: str = "") -> pd.DataFrame:
    path = folder / name if name else next(p for p in (folder / "output.tab",) if p.exists())
    frame = pd.read_csv(path, sep="\t" if path.suffix == ".tab" else ",", index_col=0)
    frame = frame.loc[:, [c for c in frame.columns if not str(c).startswith("Unnamed")]]
    return frame.ffill()


@needs_models
@pytest.mark.parametrize(
    "model",
    [
        "arithmetics/test_arithmetics.mdl",
        "arithmetics_exp/test_arithmetics_exp.mdl",
        "arithmetics_exp/test_arithmetics_exp.xmile",
        "lookups/test_lookups_no-indirect.xmile",
    ],
)
def test_sdxorg_model_matches_vensim(model):
    path = TEST_MODELS / "tests" / model
    expected = canonical(path.parent)
    expected.columns = [str(c).strip() for c in expected.columns]
    ours = to_vensim_frame(engine.simulate(engine.load(path)))
    if path.suffix == ".xmile":  # XMILE: an underscore in a name is a space
        spaced = {str(c).replace("_", " "): c for c in expected.columns}
        ours.columns = [spaced.get(str(c).replace("_", " "), c) for c in ours.columns]
    missing = [c for c in expected.columns if c not in ours.columns]
    assert not missing, f"columns missing from the output: {missing}"
    ours = ours.loc[:, list(expected.columns)]
    ours.index = expected.index = np.round(np.asarray(expected.index, dtype=float), 6)
    assert_frames_close(ours, expected, rtol=1e-5, atol=1e-5)


@needs_models
def test_active_initial_xmile_matches_stella():
    """The XMILE file was exported by xmutil, which drops ACTIVE INITIAL: its ``Value A`` is
    just ``Time``, so ``Stock A`` starts at 0, as Stella's own output of the file says. (The
    folder's output.tab is Vensim's run of the .mdl, which keeps ACTIVE INITIAL(Time, 45); the
    .mdl is checked against it by the core suite.)"""
    folder = TEST_MODELS / "tests" / "active_initial"
    expected = pd.read_csv(folder / "output_stella.csv", index_col=0)
    ours = to_vensim_frame(engine.simulate(engine.load(folder / "test_active_initial.xmile")))
    ours = ours.loc[:, list(expected.columns)]
    ours.index = expected.index = np.asarray(expected.index, dtype=float)
    assert_frames_close(ours, expected, rtol=1e-9, atol=1e-9)
    mdl = to_vensim_frame(engine.simulate(engine.load(folder / "test_active_initial.mdl")))
    assert mdl["Stock A"].iloc[0] == 45.0


# ---------------------------------------------------------------- ranges as numbers, time
def test_ranges_and_elements_used_as_numbers_match_pysd(tmp_path):
    check_against_pysd(
        tmp_path,
        """
Age : a0, a1, a2, a3, a4 |
Old : a3, a4 |
position[Age] = Age |
old position[Old] = Old * 10 |
third = a2 + 0.5 |
weights[Age] = IF THEN ELSE(Age > 2, Age - 1, 0) |
""",
    )


def test_get_time_value_is_time_plus_offset_and_refuses_the_clock(tmp_path):
    check_against_pysd(
        tmp_path,
        """
Item : i1, i2, i3 |
shifted[Item] = GET TIME VALUE(0, (Item - 2) / 4, 0) |
later = GET TIME VALUE(0, 3, 0) |
""",
        initial=-2,
    )
    path = write_mdl(tmp_path / "clock.mdl", "hour = GET TIME VALUE(2, 0, 7) |")
    with pytest.raises(engine.SpecError, match=r"'hour'.*GET TIME VALUE.*clock"):
        engine.load(path)


# ---------------------------------------------------------------- SAMPLE IF TRUE
def test_sample_if_true_matches_pysd(tmp_path):
    check_against_pysd(
        tmp_path,
        """
Item : i1, i2 |
wave = SIN(Time) |
level[Item] = Time * 10 + Item |
held[Item] = SAMPLE IF TRUE(wave > 0, level[Item], -1) |
held scalar = SAMPLE IF TRUE(wave < -0.5, Time, 100) |
stock = INTEG(held scalar / 100, 0) |
""",
        final=12,
        dt=0.25,
    )


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_sample_if_true_holds_the_last_sampled_value_with_any_solver(method):
    model = engine.Model("sampler")
    model.aux("wave", "sin(time)")
    model.aux("held", "sample_if_true(wave > 0, time, -1)")
    ds = engine.simulate(model, start=0, stop=10, dt=0.5, method=method)
    time = ds["time"].to_numpy()
    # the value at t is t while sin(t) > 0, else the last such t (or -1 before any)
    expected, last = [], -1.0
    for t in time:
        last = t if np.sin(t) > 0 else last
        expected.append(last)
    np.testing.assert_allclose(ds["held"].to_numpy(), expected)


# ---------------------------------------------------------------- one range twice
def test_a_variable_over_one_range_twice_matches_pysd(tmp_path):
    check_against_pysd(
        tmp_path,
        """
dim : A, B, C |
matrix[A, dim] = 1, 10, 100 |
matrix[B, dim] = 5, 40, 7 |
matrix[C, dim] = Time |
a2b = matrix[A, B] + matrix[C, A] |
""",
    )
    # read by range at the repeated position: ambiguous (the diagonal? the row?), refused
    path = write_mdl(
        tmp_path / "rows.mdl",
        """
dim : A, B |
matrix[A, dim] = 1, 10 |
matrix[B, dim] = 5, 40 |
row sum[dim] = SUM(matrix[dim, dim!]) |
""",
    )
    with pytest.raises(engine.SpecError, match=r"'row sum'.*'matrix'.*twice"):
        engine.load(path)


# ---------------------------------------------------------------- INVERT MATRIX
def test_invert_matrix_of_constants_matches_pysd_and_time_varying_is_refused(tmp_path):
    check_against_pysd(
        tmp_path,
        """
row : r1, r2, r3 |
col : c1, c2, c3 |
case : one, two |
matrix[row, col] = 3, 0, 2; 2, 0, -2; 0, 1, 1; |
inverse[row, col] = INVERT MATRIX(matrix[row, col], 3) |
stacked[one, row, col] = 1, 2, 0; 0, 1, 0; 4, 0, 1; ~~|
stacked[two, row, col] = 2, 0, 0; 0, 4, 0; 0, 0, 8; |
inverses[case, row, col] = INVERT MATRIX(stacked[case, row, col], 3) |
""",
    )
    path = write_mdl(
        tmp_path / "moving.mdl",
        """
row : r1, r2 | col : c1, c2 |
moving[row, col] = Time + 1 + IF THEN ELSE(row = col, 1, 0) |
inverse[row, col] = INVERT MATRIX(moving[row, col], 2) |
""",
    )
    with pytest.raises(engine.SpecError, match=r"'inverse'.*INVERT MATRIX.*constant"):
        engine.load(path)


# ---------------------------------------------------------------- VECTOR SELECT
@pytest.mark.parametrize("action", range(11))
def test_vector_select_matches_pysd_for_each_action(tmp_path, action):
    check_against_pysd(
        tmp_path,
        f"""
dim1 : a1, a2, a3 | dim2 : b1, b2 |
sel[dim1] = 0, 1, 2 |
none[dim1] = 0, 0, 0 |
sel2[dim1, dim2] = 0, 1; 1, 0; 0, 0; |
input[dim1] = 3, 4, 5 |
input2[dim2] = 7, 9 |
out = VECTOR SELECT(sel[dim1!], input[dim1!] * (Time + 1), -1, {action}, 0) |
missing = VECTOR SELECT(none[dim1!], input[dim1!], -1, {action}, 0) |
rows[dim2] = VECTOR SELECT(sel2[dim1!, dim2], input[dim1!], -1, {action}, 0) |
crossed = VECTOR SELECT(sel[dim1!], input2[dim2!], -1, {action}, 0) |
""",
        final=2,
        dt=1,
    )


def test_vector_select_refuses_a_moving_action_or_an_error_action(tmp_path):
    for args, what in [("Time + 6, 0", "action must be a constant"), ("0, 1", "error action")]:
        path = write_mdl(
            tmp_path / "select.mdl",
            f"dim1 : a1, a2 | sel[dim1] = 0, 1 | "
            f"out = VECTOR SELECT(sel[dim1!], sel[dim1!], -1, {args}) |",
        )
        with pytest.raises(engine.SpecError, match=rf"'out'.*{what}"):
            engine.load(path)
