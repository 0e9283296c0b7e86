"""calibrate: fit model parameters to observed data by nonlinear least squares.

The model is compiled once; every evaluation of the residuals is one kernel run with a new
parameter vector, writing only the outputs the observations name, at the observed times.
Residuals are ``(simulated - observed) / scale`` over every finite observation, with ``scale``
the observation itself (``relative=True``, the default: errors in percent, fair across regions
of different size) or a given standard deviation per variable. The fit is
:func:`scipy.optimize.least_squares` (trust-region reflective within the parameters' bounds);
the uncertainty is the usual Gauss-Newton approximation, covariance ``s^2 (J^T J)^-1`` with
``s^2`` the residual variance, so it is a local, asymptotic statement conditional on the
model being right.

References
----------
Seber, G. A. F. & Wild, C. J. (1989). Nonlinear Regression, ch. 2 and 5. Wiley.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from .errors import IntegrationError, ParameterError, SpecError, suggest
from .simulation import Runner
from .spec import Model

__all__ = ["calibrate", "Calibration"]


@dataclass
class Calibration:
    """The result of :func:`calibrate`.

    Attributes
    ----------
    values : dict of str to numpy.ndarray
        Fitted values by parameter, in the parameter's shape.
    standard_errors : dict of str to numpy.ndarray
        Approximate standard errors, same shapes (NaN where not identified).
    covariance : numpy.ndarray
        Covariance of the free values, in the order of :attr:`labels`.
    labels : list of str
        ``"name"`` or ``"name[e1,e2]"`` of each free value.
    params : dict
        ``fixed`` plus ``values``: pass to :func:`engine.simulate` as ``params=``.
    residuals : numpy.ndarray
        Final scaled residuals; ``rmse`` is their root mean square.
    success, message, nfev, cost
        As reported by :func:`scipy.optimize.least_squares`.
    """

    values: dict[str, np.ndarray]
    standard_errors: dict[str, np.ndarray]
    covariance: np.ndarray
    labels: list[str]
    params: dict[str, Any]
    residuals: np.ndarray
    rmse: float
    cost: float
    success: bool
    message: str
    nfev: int
    dims: dict[str, tuple[str, ...]] = field(default_factory=dict)
    coords: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def to_dataset(self) -> xr.Dataset:
        """Fitted values as an :class:`xarray.Dataset`, with ``<name>_std_error`` beside each."""
        out: dict[str, xr.DataArray] = {}
        for name, value in self.values.items():
            dims = self.dims.get(name, ())
            coords = self.coords.get(name, {})
            out[name] = xr.DataArray(value, dims=dims, coords=coords)
            out[f"{name}_std_error"] = xr.DataArray(
                self.standard_errors[name], dims=dims, coords=coords
            )
        return xr.Dataset(
            out, attrs={"rmse": self.rmse, "nfev": self.nfev, "success": int(self.success)}
        )

    def __repr__(self) -> str:
        lines = [f"<Calibration rmse={self.rmse:.4g} nfev={self.nfev} success={self.success}>"]
        flat_v = np.concatenate([np.ravel(v) for v in self.values.values()])
        flat_s = np.concatenate([np.ravel(v) for v in self.standard_errors.values()])
        for label, v, s in list(zip(self.labels, flat_v, flat_s))[:20]:
            lines.append(f"  {label} = {v:.6g} +/- {s:.2g}")
        return "\n".join(lines)


def _first_step_at(time: float, start: Any, dt: Any) -> float:
    """The first whole step from ``start`` at or after ``time`` (``time`` itself when the
    steps are not known: resolve_times then checks them)."""
    if not all(isinstance(v, (int, float, np.integer, np.floating)) for v in (start, dt)):
        return time
    if not (math.isfinite(start) and math.isfinite(dt) and dt > 0 and time > start):
        return time
    steps = math.ceil((time - start) / dt - 1e-5)
    return float(start + steps * dt)


def calibrate(
    model: Model,
    observed: xr.Dataset,
    params: Sequence[str],
    *,
    fixed: Mapping[str, Any] | None = None,
    initial: Mapping[str, Any] | None = None,
    start: float | None = None,
    stop: float | None = None,
    dt: float | None = None,
    method: str = "euler",
    relative: bool = True,
    sigma: Mapping[str, Any] | None = None,
    loss: str = "linear",
    max_nfev: int | None = None,
    xtol: float = 1e-8,
    ftol: float = 1e-8,
) -> Calibration:
    """Fit ``params`` of ``model`` to ``observed`` by (bounded) nonlinear least squares.

    Parameters
    ----------
    model : Model
        The model; it is compiled (once) if needed.
    observed : xarray.Dataset
        Variables named as model outputs, with a ``time`` dim (values among the run's save
        times) and any of the variable's own dims (coordinates are element names; a dim left
        out must be one the variable does not have). NaN observations are ignored.
    params : sequence of str
        Parameters to fit; every element of a subscripted parameter is a free value. Their
        declared bounds bound the search.
    fixed : mapping, optional
        Other parameter values held during the fit (as ``simulate(params=...)``).
    initial : mapping, optional
        Starting values of fitted parameters (default: ``fixed``, else the model's values).
    start, stop, dt, method
        Run settings, as in :func:`engine.simulate` (default: the model's own; ``stop``
        defaults to the last observed time).
    relative : bool
        Scale residuals by the observations (default), unless ``sigma`` gives the variable.
    sigma : mapping, optional
        Standard deviation of the observations of a variable, by name: a number, or an
        :class:`xarray.DataArray` that broadcasts against the observed variable (e.g. a
        share of a region's total, so that small groups do not dominate). Variables not
        named get ``relative`` scaling, or 1.
    loss, max_nfev, xtol, ftol
        Passed to :func:`scipy.optimize.least_squares` (``loss="soft_l1"`` is robust to
        outliers).

    Returns
    -------
    Calibration
        Fitted values, standard errors, covariance, and ``params`` ready for ``simulate``.

    Raises
    ------
    SpecError
        An observed variable or coordinate the model does not have.
    ParameterError
        An unknown parameter, or a starting value outside bounds.

    Examples
    --------
    >>> import numpy as np, xarray as xr, engine
    >>> m = engine.Model("decay", time_unit="year", start=0, stop=4, dt=0.01)
    >>> m.param("k", 0.2, bounds=(0, 5))
    >>> m.stock("x", initial=1.0)
    >>> m.flow("loss", "k * x", out_of="x")
    >>> t = np.arange(5.0)
    >>> obs = xr.Dataset({"x": ("time", np.exp(-0.5 * t))}, coords={"time": t})
    >>> fit = engine.calibrate(m, obs, ["k"])
    >>> round(float(fit.values["k"]), 2)
    0.5
    """
    from scipy.optimize import least_squares

    fixed = dict(fixed or {})
    names = [params] if isinstance(params, str) else list(params)
    if not names:
        raise ParameterError("calibrate: give at least one parameter to fit.")
    if "time" not in observed.dims:
        raise SpecError("calibrate: the observed Dataset needs a 'time' dim.")
    times = np.asarray(observed["time"].values, dtype=float)
    if stop is None:  # no need to run past the step at or after the last observation
        stop = _first_step_at(
            float(times.max()),
            model.start if start is None else start,
            model.dt if dt is None else dt,
        )
    # rk45 starts with the save period (first_step=0), as calibration always has.
    runner = Runner(model, start=start, stop=stop, dt=dt, method=method, outputs=[], first_step=0.0)
    result = runner.result
    assert runner.times is not None
    kinds, idx, rows, cols, obs, scale = _observation_layout(
        result, observed, runner.times, relative, sigma
    )
    runner = runner._replace(columns=(kinds, idx))

    # free values
    slots, lows, highs, x0, labels = [], [], [], [], []
    shapes: dict[str, tuple[int, ...]] = {}
    for name in names:
        var = model.variables.get(name)
        if var is None or var.kind != "param":
            known = [v.name for v in model.variables.values() if v.kind == "param"]
            raise ParameterError(
                f"calibrate: {name!r} is not a parameter of {model.name!r}." + suggest(name, known)
            )
        slot = result.plan.slots[name]
        start_value = (initial or {}).get(name, fixed.get(name, var.value))
        array = np.broadcast_to(np.asarray(start_value, dtype=float), slot.shape).ravel()
        low, high = var.bounds
        lo = -np.inf if low is None else float(low)
        hi = np.inf if high is None else float(high)
        if np.any(array < lo) or np.any(array > hi):
            raise ParameterError(
                f"calibrate: starting value of {name!r} {array.tolist()} is "
                f"outside its bounds [{low}, {high}]."
            )
        shapes[name] = slot.shape
        for k in range(slot.size):
            slots.append(slot.offset + k)
            lows.append(lo)
            highs.append(hi)
            x0.append(float(np.clip(array[k], lo, hi)))
            labels.append(_label(model, name, var.dims, k, slot.shape))
    slots_arr = np.array(slots, dtype=np.int64)
    base = runner.parameters({k: v for k, v in fixed.items() if k not in names})
    evaluations = [0]

    def residuals(x: np.ndarray) -> np.ndarray:
        p = base.copy()
        p[slots_arr] = x
        evaluations[0] += 1
        try:
            data = runner.run_arrays(p)
        except IntegrationError:
            return np.full(obs.shape, 1e6)
        sim = data[rows, cols]
        out = (sim - obs) / scale
        return np.where(np.isfinite(out), out, 1e6)

    x_start = np.array(x0)
    # a first run with the starting values reports a broken model clearly
    p0 = base.copy()
    p0[slots_arr] = x_start
    runner.run_arrays(p0)
    fit = least_squares(
        residuals,
        x_start,
        bounds=(np.array(lows), np.array(highs)),
        method="trf",
        loss=loss,
        max_nfev=max_nfev,
        xtol=xtol,
        ftol=ftol,
        x_scale="jac",
    )
    r = fit.fun
    n_obs, n_free = r.size, x_start.size
    dof = max(n_obs - n_free, 1)
    s2 = 2.0 * float(fit.cost) / dof if loss == "linear" else float(np.sum(r**2)) / dof
    jac = np.asarray(fit.jac)
    try:
        cov = s2 * np.linalg.pinv(jac.T @ jac)
    except np.linalg.LinAlgError:
        cov = np.full((n_free, n_free), np.nan)
    std = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    singular = np.linalg.matrix_rank(jac) < n_free
    if singular:
        # Values the data do not identify get NaN rather than a misleading number.
        null = np.abs(np.linalg.svd(jac)[2][np.linalg.matrix_rank(jac) :]).sum(axis=0) > 1e-6
        std = np.where(null, np.nan, std)
    values: dict[str, np.ndarray] = {}
    errors: dict[str, np.ndarray] = {}
    k = 0
    for name in names:
        size = int(np.prod(shapes[name])) if shapes[name] else 1
        values[name] = fit.x[k : k + size].reshape(shapes[name])
        errors[name] = std[k : k + size].reshape(shapes[name])
        k += size
    dims = {name: model.variables[name].dims for name in names}
    coords = {
        name: {d: list(model.dims[d].elements) for d in model.variables[name].dims}
        for name in names
    }
    return Calibration(
        values=values,
        standard_errors=errors,
        covariance=cov,
        labels=labels,
        params={**fixed, **values},
        residuals=r,
        rmse=float(math.sqrt(np.mean(r**2))) if r.size else 0.0,
        cost=float(fit.cost),
        success=bool(fit.success),
        message=str(fit.message),
        nfev=int(fit.nfev),
        dims=dims,
        coords=coords,
    )


def _label(model: Model, name: str, dims: tuple[str, ...], k: int, shape: tuple[int, ...]) -> str:
    if not dims:
        return name
    index = np.unravel_index(k, shape)
    return f"{name}[{','.join(model.dims[d].elements[i] for d, i in zip(dims, index))}]"


def _observation_layout(
    result: Any,
    observed: xr.Dataset,
    save_times: np.ndarray,
    relative: bool,
    sigma: Mapping[str, Any] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Output columns to record and, per finite observation, its (row, column), value, scale."""
    model = result.model
    code = {"y": 0, "a": 1}
    kinds: list[int] = []
    idx: list[int] = []
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    values: list[np.ndarray] = []
    scales: list[np.ndarray] = []
    obs_times = np.asarray(observed["time"].values, dtype=float)
    tol = 1e-6 * max(1.0, float(np.abs(save_times).max()))
    row_of_time = np.searchsorted(save_times, obs_times - tol)
    bad = (row_of_time >= save_times.size) | (
        np.abs(save_times[np.minimum(row_of_time, save_times.size - 1)] - obs_times) > tol
    )
    if np.any(bad):
        raise SpecError(
            f"calibrate: observed times {obs_times[bad][:5].tolist()} are not save "
            f"times of the run ({save_times[0]:g} to {save_times[-1]:g}); choose "
            "start/stop/dt so that they are."
        )
    for name, array in observed.data_vars.items():
        var = model.variables.get(str(name))
        if var is None or var.hidden or var.kind in ("lookup", "param"):
            raise SpecError(
                f"calibrate: observed variable {name!r} is not an output of model "
                f"{model.name!r}."
                + suggest(str(name), [v.name for v in model.variables.values() if not v.hidden])
            )
        slot = result.plan.slots[str(name)]
        extra = [d for d in array.dims if d != "time" and d not in var.dims]
        if extra:
            raise SpecError(
                f"calibrate: observed {name!r} has dims {extra} that the model's "
                f"{name!r} (dims {var.dims}) does not have."
            )
        # observed element positions in the variable's flat layout
        arr = array.transpose("time", *[d for d in var.dims if d in array.dims])
        index_lists = []
        for d in var.dims:
            elements = model.dims[d].elements
            if d in arr.dims:
                labels = [str(c) for c in arr[d].values]
                missing = [c for c in labels if c not in elements]
                if missing:
                    raise SpecError(f"calibrate: {missing} are not elements of {d!r}.")
                index_lists.append([elements.index(c) for c in labels])
            else:
                raise SpecError(
                    f"calibrate: observed {name!r} lacks dim {d!r}; give every dim "
                    "of the variable (or observe an aggregate the model computes)."
                )
        flat_index = (
            np.ravel_multi_index(np.ix_(*index_lists), slot.shape)
            if index_lists
            else np.zeros((), dtype=np.int64)
        )
        flat = np.asarray(flat_index).ravel()
        first_col = len(idx)
        kinds += [code[slot.array]] * flat.size
        idx += (slot.offset + flat).tolist()
        data = np.asarray(arr.values, dtype=float).reshape(obs_times.size, flat.size)
        finite = np.isfinite(data)
        t_index, e_index = np.nonzero(finite)
        rows.append(row_of_time[t_index])
        cols.append(first_col + e_index)
        v = data[t_index, e_index]
        values.append(v)
        given = (sigma or {}).get(str(name))
        if given is not None:
            s_all = xr.DataArray(given) if not isinstance(given, xr.DataArray) else given
            s_all = s_all.broadcast_like(arr).transpose(*arr.dims)
            s = np.asarray(s_all.values, dtype=float).reshape(data.shape)[t_index, e_index]
            if not np.all(s > 0):
                raise ParameterError(f"calibrate: sigma of {name!r} must be positive.")
        elif relative:
            s = np.where(np.abs(v) > 0, np.abs(v), 1.0)
        else:
            s = np.ones(v.shape)
        scales.append(s)
    if not values or sum(v.size for v in values) == 0:
        raise SpecError("calibrate: no finite observations.")
    return (
        np.array(kinds, dtype=np.int64),
        np.array(idx, dtype=np.int64),
        np.concatenate(rows),
        np.concatenate(cols),
        np.concatenate(values),
        np.concatenate(scales),
    )
