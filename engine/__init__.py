"""corridor's engine: stock-and-flow models compiled to numba, simulated into xarray.

The public API; see DESIGN.md for the contract.
"""

import os

from ._version import __version__ as __version__
from .analyze import analyze_sensitivity, summarize
from .backtest import (
    backtest,
    backtest_dataset,
    compare_scores,
    score_backtest,
    summarize_backtest,
    summarize_scores,
    write_backtest,
)
from .calibration import Calibration, calibrate
from .comparison import compare
from .compiler import CompiledModel, compile_model
from .ensemble import run_ensemble
from .errors import (
    CacheError,
    EngineError,
    IntegrationError,
    ParameterError,
    ResourceError,
    SelectionError,
    SpecError,
    StoreError,
)
from .simulation import Runner, simulate
from .spec import Dimension, Model
from .store import export_netcdf, horizons, open_store
from .tables import headline
from .units import UnitFinding, UnitsError, check_units

__all__ = [
    # building models
    "Model",
    "Dimension",
    "load",
    # checking
    "check_units",
    "UnitFinding",
    # running
    "compile_model",
    "CompiledModel",
    "simulate",
    "Runner",
    "calibrate",
    "Calibration",
    "run_ensemble",
    "backtest",
    # results
    "horizons",
    "open_store",
    "export_netcdf",
    "summarize",
    "headline",
    "compare",
    "analyze_sensitivity",
    "score_backtest",
    "summarize_scores",
    "compare_scores",
    "summarize_backtest",
    "backtest_dataset",
    "write_backtest",
    # errors
    "EngineError",
    "SpecError",
    "ParameterError",
    "IntegrationError",
    "StoreError",
    "CacheError",
    "ResourceError",
    "SelectionError",
    "UnitsError",
]


def load(path: str | os.PathLike[str]) -> Model:
    """Load a Vensim (.mdl) or XMILE (.xmile, .stmx) model into a :class:`Model`."""
    from .vensim import load as _load

    return _load(path)
