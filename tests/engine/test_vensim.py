"""The Vensim front-end: each feature group in a small .mdl, checked against PySD run here.

Where PySD is known to be wrong (SMOOTHI with an integer initial value, DESIGN.md) the check
is against a hand-computed value instead.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import engine
from engine import SpecError
from engine.testing import assert_frames_close, to_vensim_frame


def write_mdl(
    path: Path,
    equations: str,
    *,
    final: float = 10,
    dt: float = 0.25,
    saveper: float | None = None,
    initial: float = 0,
) -> Path:
    """A Vensim model file from equations written one per block ``Name = expr |``."""
    blocks = []
    for block in equations.split("|"):
        block = block.strip()
        if not block:
            continue
        parts = [part.strip() for part in block.split("~")] + ["", ""]
        blocks.append(f"{parts[0]}\n\t~\t{parts[1]}\n\t~\t{parts[2]}\n\t|")
    control = f"""
FINAL TIME  = {final}
\t~\tMonth
\t~\tThe final time for the simulation.
\t|

INITIAL TIME  = {initial}
\t~\tMonth
\t~\tThe initial time for the simulation.
\t|

SAVEPER  = {saveper if saveper is not None else dt}
\t~\tMonth [0,?]
\t~\tThe frequency with which output is stored.
\t|

TIME STEP  = {dt}
\t~\tMonth [0,?]
\t~\tThe time step for the simulation.
\t|

\\\\\\---/// Sketch information - do not modify anything except names
V300  Do not put anything below this section - it will be ignored
*View 1
///---\\\\\\
"""
    path.write_text("{UTF-8}\n" + "\n\n".join(blocks) + "\n" + control)
    return path


def run_both(path: Path):
    pysd = pytest.importorskip("pysd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = pysd.read_vensim(str(path)).run()
    ours = to_vensim_frame(engine.simulate(engine.load(path)))
    return ours, reference


def check_against_pysd(tmp_path: Path, equations: str, **times) -> None:
    path = write_mdl(tmp_path / "model.mdl", equations, **times)
    ours, reference = run_both(path)
    assert_frames_close(ours, reference, rtol=1e-9, atol=1e-9)


def test_stocks_flows_and_arithmetic(tmp_path):
    check_against_pysd(
        tmp_path,
        """
Population = INTEG(births - deaths, 1000) ~ people ~ |
births = Population * birth rate |
deaths = Population / lifetime |
birth rate = 0.04 |
lifetime = 70 |
mixed = -2^2 + 3 * (births - deaths) / MAX(1, deaths) - MIN(births, 5) + ABS(-3) |
""",
        final=20,
        dt=0.5,
    )


def test_math_logic_and_safe_division(tmp_path):
    check_against_pysd(
        tmp_path,
        """
x = Time - 3 |
e = EXP(x / 10) + LN(Time + 1) + SQRT(Time) + SIN(x) + COS(x) + TAN(x / 10) |
r = INTEGER(x * 1.7) + MODULO(Time * 3, 2) + QUANTUM(Time, 0.3) + POWER(Time, 1.5) |
cond = IF THEN ELSE(x > 0 :AND: Time < 8 :OR: x = -3, 1, 0) + IF THEN ELSE(:NOT: (x >= 2), 10, 20) |
safe = XIDZ(1, x, 99) + ZIDZ(x, x - 2) |
logs = LOG(Time + 2, 10) + ARCTAN(x) |
""",
    )


def test_time_functions(tmp_path):
    check_against_pysd(
        tmp_path,
        """
s = STEP(2, 3) |
r = RAMP(0.5, 2, 6) + RAMP(-1, 7, 20) |
p = PULSE(3, 2) |
pt = PULSE TRAIN(1, 0.5, 2, 8) |
""",
        dt=0.125,
    )


def test_lookups_named_inline_and_clamped(tmp_path):
    check_against_pysd(
        tmp_path,
        """
table([(0,0)-(10,10)],(0,0),(2,5),(5,6),(8,10)) |
named = table(Time - 1) |
inline = WITH LOOKUP(Time, ([(0,0)-(10,10)],(1,1),(4,8),(6,2))) |
""",
        final=12,
    )


def test_delays_smooths_trend_initial(tmp_path):
    check_against_pysd(
        tmp_path,
        """
input = 5 + STEP(10, 2) + RAMP(1, 4, 8) |
d1 = DELAY1(input, 2) |
d1i = DELAY1I(input, 2, 3) |
d3 = DELAY3(input, 3) |
d3i = DELAY3I(input, 3, 1) |
dn = DELAY N(input, 4, 2, 5) |
df = DELAY FIXED(input, 1.5, 7) |
sm = SMOOTH(input, 2) |
sm3 = SMOOTH3(input, 3) |
sm3i = SMOOTH3I(input, 3, 2.5) |
smn = SMOOTH N(input, 2, 4.5, 4) |
tr = TREND(input, 2, 0.1) |
first = INITIAL(input * 2) |
active = ACTIVE INITIAL(input * 3, 4) |
level = INTEG(active - level, active) |
""",
        final=12,
    )


def test_smoothi_with_integer_initial_value(tmp_path):
    """PySD truncates this state to an integer (DESIGN.md); Vensim and corridor do not."""
    path = write_mdl(tmp_path / "smoothi.mdl", "x = SMOOTHI(1.336, 2, 1) |", final=1, dt=0.5)
    ds = engine.simulate(engine.load(path))
    # Euler: s(0.5) = 1 + 0.5 * (1.336 - 1) / 2
    assert float(ds["x"].sel(time=0.5)) == pytest.approx(1.084, rel=1e-12)


def test_subscripts(tmp_path):
    check_against_pysd(
        tmp_path,
        """
Region: north, south, east |
Sub: north, south |
Age: young, old |
Other: o1, o2, o3 -> Region |
base[Region] = 1, 2, 3 |
matrix[Region, Age] = 1, 2; 3, 4; 5, 6; |
grid[Age, Region] = matrix[Region, Age] * 2 |
up[Region, Age] = base[Region] + Time |
total = SUM(matrix[Region!, Age!]) |
by age[Age] = SUM(matrix[Region!, Age]) |
biggest = VMAX(base[Region!]) + VMIN(base[Region!]) + PROD(base[Region!]) |
count = ELMCOUNT(Region) |
sub only[Sub] = base[Sub] * 10 |
except[Region] :EXCEPT: [east] = 1 |
except[east] = 7 |
single[north] = 1 |
single[south] = Time |
single[east] = 3 |
mapped[Other] = 4, 5, 6 |
from map[Region] = mapped[Other] |
stock[Region] = INTEG(base[Region] * 0.1, base[Region]) |
""",
    )


def test_unsupported_construct_names_variable_and_construct(tmp_path):
    path = write_mdl(
        tmp_path / "unsupported.mdl",
        """
Region : a, b | pprofile : ptype, ppriority, pwidth, pextra |
request[Region] = 1, 2 |
profiles[Region, pprofile] = 0, 1, 1, 0; 1, 2, 1, 0; |
allocated[Region] = ALLOCATE AVAILABLE(request[Region], profiles[Region, ptype], 2) |
""",
    )
    with pytest.raises(
        SpecError,
        match="variable 'allocated': ALLOCATE AVAILABLE's priority profile 0 is not supported",
    ):
        engine.load(path)
    path = write_mdl(tmp_path / "unknown_function.mdl", "y = NPV(1, 2, 3, 4) |")
    with pytest.raises(SpecError, match="'y': function NPV is not supported"):
        engine.load(path)


def test_malformed_file_names_the_file(tmp_path):
    path = tmp_path / "broken.mdl"
    path.write_text("{UTF-8}\nx = (1 + \n\t~\t\n\t~\t\t|\n")
    with pytest.raises(SpecError, match="broken.mdl"):
        engine.load(path)
    with pytest.raises(SpecError, match="does not exist"):
        engine.load(tmp_path / "absent.mdl")
    with pytest.raises(SpecError, match="unknown model format"):
        engine.load(path.with_suffix(".txt").write_text("") or path.with_suffix(".txt"))


def test_imported_model_keeps_vensim_names_and_times(tmp_path):
    path = write_mdl(
        tmp_path / "names.mdl",
        """
Teacup Temperature = INTEG(-Heat Loss, 180) ~ degF ~ |
Heat Loss = (Teacup Temperature - Room Temp) / 10 ~ degF/Month ~ |
Room Temp = 70 ~ degF ~ |
""",
        final=5,
        dt=0.5,
        saveper=1,
    )
    model = engine.load(path)
    ds = engine.simulate(model)
    assert "Teacup Temperature" in ds and ds["Teacup Temperature"].attrs["units"] == "degF"
    np.testing.assert_allclose(ds["time"].values, np.arange(6.0))
    assert float(ds["TIME STEP"]) == 0.5
    faster = engine.simulate(model, dt=0.25)
    assert float(faster["TIME STEP"]) == 0.25


def test_saveper_not_a_multiple_of_time_step_follows_vensim(tmp_path):
    """Vensim saves only the steps that fall on a multiple of SAVEPER (here every 1.5)."""
    check_against_pysd(tmp_path, "x = INTEG(1, 0) |", final=6, dt=0.5, saveper=0.75)
    ds = engine.simulate(engine.load(tmp_path / "model.mdl"))
    np.testing.assert_allclose(ds["time"].values, [0, 1.5, 3, 4.5, 6])


def test_random_uniform_is_reproducible_and_in_range(tmp_path):
    path = write_mdl(
        tmp_path / "noise.mdl",
        """
noise = RANDOM UNIFORM(2, 5, 7) |
other seed = RANDOM UNIFORM(2, 5, 8) |
""",
        final=50,
        dt=1,
    )
    first = engine.simulate(engine.load(path))
    second = engine.simulate(engine.load(path))
    values = first["noise"].values
    np.testing.assert_array_equal(values, second["noise"].values)
    assert values.min() >= 2 and values.max() < 5 and np.unique(values).size == values.size
    assert not np.array_equal(values, first["other seed"].values)
    assert abs(values.mean() - 3.5) < 0.5


def test_macros_each_call_has_its_own_state(tmp_path):
    text = """{UTF-8}
:MACRO: EXPRESSION MACRO(input, parameter)
EXPRESSION MACRO = INTEG(input * parameter - EXPRESSION MACRO / 2, input)
\t~\tinput
\t~\t\t|

:END OF MACRO:
Inflow = 3 + STEP(1, 2)
\t~\t
\t~\t\t|

Out = EXPRESSION MACRO(Inflow, 0.5) + EXPRESSION MACRO(Time, 2)
\t~\t
\t~\t\t|
"""
    path = write_mdl(tmp_path / "macro.mdl", "")
    control = path.read_text().split("\n", 1)[1]
    path.write_text(text + control)
    ours, reference = run_both(path)
    assert_frames_close(ours, reference, rtol=1e-9, atol=1e-9)
    assert not any("~" in str(c) for c in ours.columns)


@pytest.mark.skipif(
    not (Path(__file__).resolve().parents[3] / "shared").exists(),
    reason="shared conformance models not found",
)
@pytest.mark.parametrize("name", ["SIR.xmile", "SIR.stmx"])
def test_xmile_sir_matches_vensim_output(name):
    import pandas as pd

    from tests.conftest import TEST_MODELS

    folder = TEST_MODELS / "samples" / "SIR"
    canonical = pd.read_csv(folder / "output.csv", index_col=0)
    ours = to_vensim_frame(engine.simulate(engine.load(folder / name)))
    ours.columns = [c.replace("_", " ").lower() for c in ours.columns]
    canonical.columns = [c.lower() for c in canonical.columns]
    assert_frames_close(ours, canonical)


def test_imported_model_runs_in_an_ensemble_and_store_keeps_its_names(tmp_path):
    path = write_mdl(
        tmp_path / "names.mdl",
        """
Population = INTEG(births - deaths, 1000) ~ people ~ |
births = Population * birth rate ~ people/Month ~ |
deaths = Population * 0.01 ~ people/Month ~ |
birth rate = 0.012 ~ 1/Month ~ |
"births/deaths" = births / deaths ~ 1 ~ |
""",
        final=24,
        dt=0.25,
        saveper=1,
    )
    model = engine.load(path)
    ratio = next(name for name in model.variables if "/" in name)
    tree = engine.run_ensemble(
        model,
        n=8,
        seed=1,
        design="random",
        priors={"birth rate": ("uniform", 0.009, 0.013)},
        outputs=["Population", ratio],
        store=tmp_path / "s.zarr",
        progress=False,
    )
    group = next(name for name in tree.children if name not in ("summary", "sensitivity"))
    back = engine.open_store(tmp_path / "s.zarr", group=group)
    assert ratio in back and "Population" in back
    assert back[ratio].sizes["member"] == 8
    rate = float(tree["sample"].sel(parameter="birth rate").values[0])
    single = engine.simulate(model, params={"birth rate": rate})
    np.testing.assert_allclose(
        back[ratio].isel(member=0).values, single[ratio].sel(time=back["time"]).values, rtol=1e-12
    )


def test_load_reuses_the_parsed_model_until_the_file_changes(tmp_path):
    path = write_mdl(tmp_path / "cached.mdl", "x = 2 * Time |", final=2, dt=1)
    first = engine.load(path)
    second = engine.load(path)
    assert second is not first and second.content_hash() == first.content_hash()
    np.testing.assert_array_equal(engine.simulate(second)["x"].values, [0, 2, 4])
    write_mdl(path, "x = 3 * Time |", final=2, dt=1)
    np.testing.assert_array_equal(engine.simulate(engine.load(path))["x"].values, [0, 3, 6])
