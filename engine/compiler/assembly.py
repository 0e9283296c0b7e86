"""Module assembly: the kernel module's text from a plan (init, aux, deriv, Euler step,
discrete updates and the solver templates of :mod:`engine.solvers`)."""

from __future__ import annotations

import ast
import functools
import re
import textwrap
from typing import Any

import numpy as np

from .. import kernels, solvers
from ..builtins import PROCESS_STEPS, RANDOM
from ..equations import Call, walk
from ..errors import SpecError
from ..graph import Plan
from .expressions import _comment, _Gen
from .fusion import _assigned_names, _is_comment, fuse_loops, fuse_nests, fuse_step
from .layout import columns, copy_runs, default_outputs
from .stocks import (
    _cohort_shift,
    _delay_fixed_init,
    _delay_fixed_push,
    _delay_fixed_read,
    _nonnegative_limits,
    _sample_push,
    _stock_rate,
    _stock_update,
)

_P_CONST = re.compile(r"\bp\[(\d+)\]")
# Above this many lines of rate code, a model is large: numba's inlining of a large function
# costs more compile time than it saves (the Euler step gets the rate code in its own text
# instead, see generate_source), and its loops over elements are counted at run time
# (_runtime_counts).
_INLINE_LINES = 150
# A loop over a variable's elements (not a reduction's inner loop, r<n>): ``for v in range(n)``
# or ``for v in range(a, b)`` with literal bounds.
_ELEMENT_LOOP = re.compile(r"^(\s*for (?!r\d)\w+ in range\()(\d+)(?:, (\d+))?\):$")
# A large model's rate code is cut into functions of about this many lines, each compiled once
# (numba's analyses of a function grow faster than its length: the corridor's Euler step,
# 12.7 s of CPU to compile in one function, 11.5 s in four). Measured on the default corridor
# (its whole compile, run_euler called the chunks itself): 150 lines 11.6 s of CPU, 300 12.4 s,
# 80 11.2 s, 60 10.5 s, 40 10.5-10.9 s, 30 11.0 s, 15 11.6 s (each function costs a fixed
# part, and its call is compiled again in run_euler).
_CHUNK_LINES = 60
# numba's keywords for functions called only from compiled code (see generate_source)
_NO_WRAPPERS = "no_cpython_wrapper=True, no_cfunc_wrapper=True"
# A nested element loop of at most this many iterations keeps its literal count: LLVM unrolls
# it (a dimension of two sexes, say) into little code, and the run is faster for it.
_SMALL_LOOP = 4


def generate_source(plan: Plan, *, fuse: bool = True) -> tuple[str, np.ndarray, dict[str, int]]:
    """The kernel module's source, the default parameter vector and control offsets.

    ``fuse=False`` keeps every variable's loops apart (:func:`~.fusion.fuse_loops` not applied),
    to compare with the fused code.
    """
    model = plan.model
    gen = _Gen(plan)
    variables = model.variables
    controls: dict[str, int] = {}

    # Parameter vector: values, lookup tables, then control slots appended at the end.
    n_p = plan.sizes["p"]
    calls = _random_calls(plan)
    extra_p = len(model.shifts) + (2 if calls else 0)
    p0 = np.zeros(n_p + extra_p)
    for var in variables.values():
        if var.kind == "param":
            slot = plan.slots[var.name]
            assert var.value is not None
            p0[slot.offset : slot.offset + slot.size] = np.asarray(var.value, float).ravel()
        elif var.kind == "lookup":
            assert var.tables is not None
            for (off, n), (xs, ys) in zip(plan.lookup_tables[var.name], var.tables):
                p0[off : off + n] = xs
                p0[off + n : off + 2 * n] = ys
    for k, _shift in enumerate(model.shifts):
        controls[f"_shift{k}"] = n_p + k
    if calls:
        # The key of the model's draws: the run's seed, then the ensemble member (0 for one
        # run), written by engine.simulation and engine.ensemble.
        controls["_seed"] = gen.key_offset = n_p + len(model.shifts)
        controls["_member"] = controls["_seed"] + 1
        controls["_process"] = int(bool(calls & PROCESS_STEPS))

    # init
    init_lines: list[str] = []
    for name in plan.init_order:
        var = variables[name]
        slot = plan.slots[name]
        if var.kind == "stock":
            init_lines += gen.assign(var, "eq", "y", slot.offset)
        elif var.kind in ("aux", "flow"):
            role = "init" if var.init_pieces is not None else "eq"
            init_lines += gen.assign(var, role, "a", slot.offset)
        elif var.kind == "initial":
            init_lines += gen.assign(var, "eq", "a", slot.offset)
        elif var.kind == "delay_fixed":
            init_lines += _delay_fixed_init(gen, var, slot.offset, controls)
    # aux
    aux_lines: list[str] = []
    for var in variables.values():
        if var.kind == "delay_fixed":
            aux_lines += _delay_fixed_read(gen, var, plan.slots[var.name].offset, controls)
    out_lines: list[str] = []
    limits = _nonnegative_limits(gen)
    pending = [(set(flows), lines) for flows, lines in limits]
    for name in plan.dynamic_order:
        lines = gen.assign(variables[name], "eq", "a", plan.slots[name].offset)
        if name in plan.output_only:
            out_lines += lines
        else:
            aux_lines += lines
        # limit a non-negative stock's outflows as soon as the last of them is computed, and
        # its negative inflows once all its flows are
        for flows, limit in pending:
            if name in flows:
                flows.discard(name)
                if not flows:
                    aux_lines += limit
    # deriv; the Euler step computes only the rates of stocks given one directly (in
    # _euler_rates) and adds the flows of the others to the stocks in one pass (_euler_update)
    deriv_lines = ["    aux(t, y, p, a, z, h)"]
    euler_rate_lines: list[str] = []
    update_lines: list[str] = []
    for var in variables.values():
        if var.kind != "stock":
            continue
        rate_lines = _stock_rate(gen, var)
        deriv_lines += rate_lines
        if var.rate is not None:
            euler_rate_lines += rate_lines
        update_lines += _stock_update(gen, var)
    # discrete updates
    pre_lines: list[str] = []
    for var in variables.values():
        if var.kind == "delay_fixed":
            pre_lines += _delay_fixed_push(gen, var, controls)
        elif var.kind == "stock" and "sample_from" in var.extra:
            pre_lines += _sample_push(gen, var)
    post_lines: list[str] = []
    for k, shift in enumerate(model.shifts):
        post_lines += _cohort_shift(gen, shift, controls[f"_shift{k}"])
    for var in variables.values():
        # Stocks given a net rate directly (Vensim/XMILE INTEG) are clamped after the step;
        # stocks fed by flows are kept non-negative by limiting their outflows instead.
        if var.kind == "stock" and var.non_negative and var.rate is not None:
            slot = plan.slots[var.name]
            post_lines += [
                f"    for i in range({slot.offset}, {slot.offset + slot.size}):",
                "        if y[i] < 0.0:",
                "            y[i] = 0.0",
            ]
    controls["_discrete"] = int(bool(pre_lines) or bool(model.shifts))
    # which optional steps the solver templates call (engine.solvers, HOOKS)
    hooks = {"pre_step": bool(pre_lines), "post_step": bool(post_lines)}
    if fuse:
        init_lines, aux_lines, out_lines = (
            fuse_loops(init_lines),
            fuse_loops(aux_lines),
            fuse_loops(out_lines),
        )
        deriv_lines, euler_rate_lines = fuse_loops(deriv_lines), fuse_loops(euler_rate_lines)
        update_lines = fuse_loops(update_lines, independent=True)

    # Output-only code runs only for the outputs a run saves: each block of it (one variable's
    # code, or the loop several share) under a flag of its own in p, which the Runner clears
    # when the run saves none of the block's variables nor anything that reads them.
    out_lines, needs = _output_guards(out_lines, model, plan.output_only, len(p0))
    if needs:
        p0 = np.concatenate([p0, np.ones(max(needs.values()) + 1 - len(p0))])
        controls.update({f"_need:{name}": slot for name, slot in needs.items()})

    large = len(aux_lines) > _INLINE_LINES
    if fuse and large:
        # a large model's nests that share an outer loop, joined where provably safe
        # (fusion.fuse_nests): numba's compile costs ~20 ms of CPU a loop
        init_lines, aux_lines = fuse_nests(init_lines), fuse_nests(aux_lines)
        euler_rate_lines = fuse_nests(euler_rate_lines)
    # A small model's Euler steps that save nothing run its rates and stock update in one
    # pass where the loops can fuse (fusion.fuse_step); not with pre_step, which runs between
    # the two, nor in a large model, whose compile would grow by another copy of the rates.
    fused = (
        fuse_step(aux_lines + euler_rate_lines, update_lines)
        if fuse and not large and not pre_lines
        else None
    )
    hooks["fused"] = fused is not None
    assert set(hooks) == set(solvers.HOOKS)
    # a large model's chunk calls, written into run_euler in place of the call they stand for
    direct: dict[str, str] = {}
    # the literal parts of a large model's indices, unsigned module constants (_hoisted_indices)
    constants: set[int] = set()

    def body(lines: list[str]) -> str:
        if large:
            lines = _runtime_counts(lines)
            lines = [line if _is_comment(line) else _unsigned_indices(line) for line in lines]
            lines = _hoisted_indices(lines, constants)
        return "\n".join(lines) if lines else "    pass"

    def hoisted(lines: list[str]) -> str:
        # Parameters never change during a run: read each scalar slot once per call, so the
        # compiler need not reload it after every store to another array.
        # Comments are skipped: they hold model names, which are not code.
        slots = sorted(
            {int(m) for line in lines if not _is_comment(line) for m in _P_CONST.findall(line)}
        )
        if not slots:
            return body(lines)
        head = [f"    _p{k} = p[{k}]" for k in slots]
        return body(
            head
            + [
                line if _is_comment(line) else _P_CONST.sub(lambda m: f"_p{m.group(1)}", line)
                for line in lines
            ]
        )

    # Only the solvers (engine.solvers) are called from Python: the functions they call need
    # no CPython or C wrapper, whose compiling cost each function ~0.1 s.
    deco = f'@njit(cache=True, error_model="numpy", {_NO_WRAPPERS})'
    if not large:
        # The step's code written into run_euler at its calls (one function per step lets LLVM
        # keep values in registers and vectorise across what were call boundaries): the text
        # of what numba's inline="always" gave, without numba copying and re-analysing the
        # callees' IR at each compile (_inlined).
        direct[_RATES_CALL] = _inlined(
            [hoisted(aux_lines), body(euler_rate_lines)], _RATES_CALL_INDENT
        )
        direct[_UPDATE_CALL] = _inlined([body(update_lines)], _RATES_CALL_INDENT)
        if fused is not None:
            direct[_FUSED_CALL] = _inlined([hoisted(fused)], _OUT_CALL_INDENT)
        euler_step: list[str] = []
        _check_inlined(_fill_hooks(solvers.SOURCE["euler"], hooks), list(direct.values()))
    else:
        # A large model: numba's inlining would cost more compile time than the call saves,
        # and a call costs a compile too: numba links a callee's code into its caller and
        # optimises it again there. So the rate code is written into the Euler step's rates
        # function itself (cut into a few functions it calls when long, _chunks), which then
        # does not call aux (compiled only for the other solvers).
        chunks = _chunks(aux_lines + euler_rate_lines, _CHUNK_LINES)
        if len(chunks) > 1:
            # The Euler loop calls the chunks itself: numba links every callee's code into its
            # caller and optimises and compiles it again there, so each level of calls between
            # run_euler and the rate code is the rate code compiled once more (the corridor's
            # run_euler, 12.1 -> 11.0 s of CPU without the level of _euler_rates).
            direct[_RATES_CALL] = "".join(
                f"{_RATES_CALL_INDENT}_rates{k}(t, y, p, a, z, h, dydt)\n"
                for k in range(len(chunks))
            )
        euler_step = []
        for k, chunk in enumerate(chunks if len(chunks) > 1 else []):
            euler_step += [deco, f"def _rates{k}(t, y, p, a, z, h, dydt):", hoisted(chunk), ""]
        euler_step += [
            deco,
            "def _euler_rates(t, y, p, a, z, h, dydt):",
            hoisted(chunks[0])
            if len(chunks) == 1
            else "\n".join(f"    _rates{k}(t, y, p, a, z, h, dydt)" for k in range(len(chunks))),
            "",
            deco,
            "def _euler_update(y, a, h, dydt):",
            body(update_lines),
            "",
        ]
    # A small model's Euler kernel saves its default outputs by copies written out for them
    saving = None if large else _default_save(plan)
    if saving is not None:
        direct.update(saving)
    # A large model's output-only code is cut as its rate code is, run_euler calling the
    # pieces itself (aux_out calls them for the other solvers).
    out_chunks = _chunks(out_lines, _CHUNK_LINES) if large else [out_lines]
    out_functions = []
    for k, chunk in enumerate(out_chunks if len(out_chunks) > 1 else []):
        out_functions += [deco, f"def _out{k}(t, y, p, a, z, h):", hoisted(chunk), ""]
    out_functions += [
        deco,
        "def aux_out(t, y, p, a, z, h):",
        hoisted(out_lines)
        if len(out_chunks) == 1
        else "\n".join(f"    _out{k}(t, y, p, a, z, h)" for k in range(len(out_chunks))),
        "",
    ]
    if len(out_chunks) > 1:
        direct[_OUT_CALL] = "".join(
            f"{_OUT_CALL_INDENT}_out{k}(t, y, p, a, z, h)\n" for k in range(len(out_chunks))
        )
    parts = [
        '"""Kernels generated by corridor. Do not edit."""',
        f"# model: {_comment(model.name)}",
        "import numpy as np",
        "from numba import njit, prange",
        "",
        f"NY = {plan.sizes['y']}",
        f"NA = {plan.sizes['a']}",
        *gen.globals,
        f"# shared helpers: engine.kernels {kernels.SOURCE_HASH}",
        f"from engine.kernels import {', '.join(kernels.NAMES)}",
        "",
        deco,
        "def init(t, p, y, a, z, h):",
        body(init_lines),
        "",
        deco,
        "def aux(t, y, p, a, z, h):",
        hoisted(aux_lines),
        "",
        *out_functions,
        deco,
        "def deriv(t, y, p, a, z, h, dydt):",
        body(deriv_lines),
        "",
        *euler_step,
        deco,
        "def pre_step(t, y, p, a, z, h):",
        body(pre_lines),
        "",
        deco,
        "def post_step(step, y, p, a, z, h):",
        body(post_lines),
        "",
        *(
            _direct_calls(_fill_hooks(solvers.SOURCE[name], hooks), name, direct)
            for name in (*solvers.METHODS, *(f"members_{m}" for m in solvers.METHODS))
        ),
    ]
    if model.dynamic_control:
        for role in ("dt", "stop", "saveper"):
            control_name = model.control.get(role)
            found = plan.slots.get(control_name) if control_name else None
            if found is None or found.array not in ("a", "p"):
                raise SpecError(
                    f"model {model.name!r}: run setting {role!r} is not defined; "
                    "define TIME STEP, FINAL TIME and SAVEPER."
                )
            parts += [
                deco,
                f"def _control_{role}(a, p):",
                f"    return {found.array}[{found.offset}]",
                "",
            ]
        if controls.get("_zcount"):
            raise SpecError(
                f"model {model.name!r}: DELAY FIXED with run settings that change "
                "during the run is not supported."
            )
        parts.append(_fill_hooks(solvers.SOURCE["euler_dynamic"], hooks))
    if constants:
        at = parts.index(f"NA = {plan.sizes['a']}") + 1
        parts[at:at] = [f"_U{k} = np.uint64({k})" for k in sorted(constants)]
    source = "\n".join(parts) + "\n"
    if large:
        source = _by_pointer(source, deco, controls)
    return source, p0, controls


# How run_euler (engine.solvers) calls the rates of a step and the output-only code at a save
# step: the lines _direct_calls replaces.
_RATES_CALL_INDENT = " " * 8
_RATES_CALL = f"{_RATES_CALL_INDENT}_euler_rates(t, y, p, a, z, h, dydt)\n"
_OUT_CALL_INDENT = " " * 12
_OUT_CALL = f"{_OUT_CALL_INDENT}aux_out(t, y, p, a, z, h)\n"


# The small model's update and fused step calls, written out likewise (_inlined).
_UPDATE_CALL = f"{_RATES_CALL_INDENT}_euler_update(y, a, h, dydt)\n"
_FUSED_CALL = f"{_OUT_CALL_INDENT}_euler_fused(t, y, p, a, z, h, dydt)\n"


def _inlined(bodies: list[str], indent: str) -> str:
    """Function bodies (indented four spaces, "    pass" when empty) as lines of run_euler at
    ``indent``, to replace a call (:func:`_direct_calls`): what numba's ``inline="always"``
    made of the call (the callees take run_euler's own arguments by the same names), written
    in the text, so numba does not copy and re-analyse the callees' IR at every compile
    (Query_file's and test_subscripted_delays' inlining: ~1/5 of their compile). The code
    must not assign a name of run_euler's, else than a loop counter on both sides
    (:func:`_check_inlined`)."""
    lines = [line for text in bodies if text != "    pass" for line in text.split("\n")]
    return "".join(f"{indent[4:]}{line}\n" if line.strip() else "\n" for line in lines)


def _stored(tree: ast.AST) -> set[str]:
    """The names ``tree`` assigns (loop counters included) or takes as arguments."""
    return _assigned_names(tree) | {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}


def _check_inlined(template: str, inlined: list[str]) -> None:
    """Raise AssertionError when code written into run_euler (``inlined``) assigns a name
    ``template`` (run_euler) uses, loop counters included: numba's inlining renamed the callee's
    locals, the text does not (the generated code's locals, b, cap, e, i0, _p<k>, ..., are the
    compiler's own names, never a model's). Not even a name both use only as a loop counter is
    allowed: code written inside run_euler's loop over ``i`` that loops over ``i`` itself would
    leave the inner value for the rest of that iteration of the outer loop.

    Checked once a process for each pair of texts (:func:`_inlined_clash`): parsing the
    template took a few ms at every load, the source being generated before the cache
    lookup (a small model's cached load+simulate 3.6 -> 7.6 ms in the quick benchmarks)."""
    _inlined_clash(template, tuple(inlined))


@functools.lru_cache(maxsize=64)
def _inlined_clash(template: str, inlined: tuple[str, ...]) -> None:
    tree = ast.parse(template)
    theirs = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    theirs |= {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    shared: set[str] = set()
    for text in inlined:
        shared |= _stored(ast.parse(textwrap.dedent(text))) & theirs
    if shared:
        raise AssertionError(f"code written into run_euler assigns its names {sorted(shared)}")


# How run_euler starts its saved rows and saves one (the lines _default_save replaces).
_ROW_START = "    row = 0\n"
_SAVE_CALL = " " * 12 + "bad = _save(row, y, a, p, runs, out)\n"
# At most this many copy runs in the default outputs' save written out (a few lines each):
# each run costs compile time (Query_file, 27 runs: cold compile 9.5 s without, 17.2 s with).
_SAVE_RUNS = 4


def _default_save(plan: Plan) -> dict[str, str] | None:
    """run_euler's lines that save a small model's default outputs (every variable but
    parameters, :func:`~.layout.default_outputs`) by copies written into it, in place of
    :func:`engine.kernels._save`'s loop over the runs table (loads and branches per block),
    for the lines they replace (:func:`_direct_calls`): ``default``, set once per run, whether
    the run's copy runs are the default outputs' ones, and the save, the written-out copies
    when it is (else ``_save``). The same copies and the same check (a flag or-ed from
    ``v - v != 0`` of the values of variables that may not be NaN, then the first non-finite
    column searched in the blocks' order): the same bits and statuses. No function and no
    call: a call passing ``runs`` or ``out`` made numba count references to them at every
    save, and each function is compiled on its own. None when the table has more than
    :data:`_SAVE_RUNS` rows."""
    runs = copy_runs(*columns(plan, default_outputs(plan.model))).tolist()
    if len(runs) > _SAVE_RUNS:
        return None
    same = [f"runs.shape[0] == {len(runs)}", "runs.shape[1] == 4"] + [
        f"runs[{r}, {c}] == {v}" for r, run in enumerate(runs) for c, v in enumerate(run)
    ]
    check = [f"    default = {same[0]} and {same[1]}"]
    check += ["    if default:", "        default = " + " and ".join(same[2:])] if runs else []
    save = ["if default:", "    nonfinite = False"]
    search = []
    for kind, src, dst, n in runs:
        array = "yap"[kind % 3]
        flag = ["nonfinite |= v - v != 0.0"] if kind < 3 else []
        if n == 1:
            save += [
                f"    {line}" for line in [f"v = {array}[{src}]", f"out[row, {dst}] = v", *flag]
            ]
        else:
            save += [f"    for i in range({n}):"] + [
                f"        {line}"
                for line in [f"v = {array}[{src} + i]", f"out[row, {dst} + i] = v", *flag]
            ]
        if kind < 3:
            search += [
                f"        for i in range({dst}, {dst + n}):",
                "            if bad < 0 and not np.isfinite(out[row, i]):",
                "                bad = i",
            ]
    save += [
        "    bad = -1",
        *(["    if nonfinite:", *search] if search else []),  # none: every block may be NaN
        "else:",
        "    bad = _save(row, y, a, p, runs, out)",
    ]
    return {
        _ROW_START: _ROW_START + "".join(f"{line}\n" for line in check),
        _SAVE_CALL: "".join(f"{' ' * 12}{line}\n" for line in save),
    }


def _direct_calls(source: str, name: str, calls: dict[str, str]) -> str:
    """The solver ``name``'s source with each call line of ``calls`` replaced by its value
    (the chunks of a large model's code, called in order) in run_euler; others unchanged."""
    if name != "euler":
        return source
    for line, replacement in calls.items():
        if source.count(line) != 1:
            raise AssertionError(f"solver template: run_euler must hold {line.strip()!r} once")
        source = source.replace(line, replacement)
    return source


# How the Euler templates (engine.solvers) begin: a large model's add the functions argument.
_EULER_HEAD = "def run_euler(p, y, a, z, t0, h, n_steps, save, runs, out, info):"
_MEMBERS_HEAD = "def run_members_euler(P, t0, h, n_steps, save, runs, out, info, nz, zcap):"
_MEMBER_CALL = "out[m], info[m])"
# Called directly all the same: the stock update and the discrete updates, little code whose
# loops over all stocks are the hottest of a run (compiled within run_euler as before).
_DIRECT = {"_euler_update", "post_step"}
_DEFINED = re.compile(r"^def (\w+)\(", re.MULTILINE)


def _by_pointer(source: str, deco: str, controls: dict[str, int]) -> str:
    """A large model's module with run_euler calling the model's functions through pointers.

    numba links a called function's code into its caller and optimises and compiles it there
    again, so the Euler loop compiled the model's whole rate and output code twice: once in
    each function, once more in run_euler (2.1 s of LLVM of the default corridor's 12.4 s of
    CPU; the stock update and post_step, little code, are still called directly). Called
    through a pointer (a first-class function, ``fns[k](...)``: run_euler and
    run_members_euler take the tuple ``fns`` as their last argument, which
    :meth:`CompiledModel.runner` supplies), each function is compiled once, with the C wrapper
    the pointer calls (so without ``no_cfunc_wrapper``). The same code runs: the same
    bits. ``controls`` receives ``_fn:<name>``, the position of each function in ``fns``."""
    defined = set(_DEFINED.findall(source))
    start = source.index(_EULER_HEAD)
    end = source.index("\n\n\n", start) if "\n\n\n" in source[start:] else len(source)
    euler = source[start:end].split("\n")
    called: list[str] = []
    call = re.compile(r"(?<![\w.])(\w+)\(")
    for line in euler[1:]:
        if not _is_comment(line):
            called += [
                name
                for name in call.findall(line)
                if name in defined
                and name not in called
                and not name.startswith("run_")
                and name not in _DIRECT
            ]
    if not called:
        return source
    functions = {name: k for k, name in enumerate(called)}

    def pointer(line: str) -> str:
        if _is_comment(line):
            return line
        return call.sub(
            lambda m: f"fns[{functions[m.group(1)]}](" if m.group(1) in functions else m.group(0),
            line,
        )

    euler = [_EULER_HEAD[:-2] + ", fns):"] + [pointer(line) for line in euler[1:]]
    source = source[:start] + "\n".join(euler) + source[end:]
    start = source.index(_MEMBERS_HEAD)
    end = source.index("\n\n\n", start) if "\n\n\n" in source[start:] else len(source)
    members = source[start:end]
    if members.count(_MEMBER_CALL) != 2:
        raise AssertionError("solver template: run_members_euler is not of the expected shape")
    members = members.replace(_MEMBERS_HEAD, _MEMBERS_HEAD[:-2] + ", fns):")
    members = members.replace(_MEMBER_CALL, _MEMBER_CALL[:-1] + ", fns)")
    source = source[:start] + members + source[end:]
    wrapped = deco.replace(f", {_NO_WRAPPERS}", ", no_cpython_wrapper=True")
    for name in called:
        head = f"{deco}\ndef {name}("
        if source.count(head) != 1:
            raise AssertionError(f"kernel module: {name} is not defined once as expected")
        source = source.replace(head, f"{wrapped}\ndef {name}(")
        controls[f"_fn:{name}"] = functions[name]
    return source


def _chunks(lines: list[str], size: int) -> list[list[str]]:
    """``lines`` cut into runs of about ``size`` lines, each cut before the comment that starts
    a variable's code (the first of consecutive comment lines at the body's indentation), so
    no local of one variable's code is read in another run."""
    out: list[list[str]] = [[]]
    for k, line in enumerate(lines):
        starts = line.startswith("    # ") and not (k and lines[k - 1].startswith("    # "))
        if starts and len(out[-1]) >= size:
            out.append([])
        out[-1].append(line)
    return out


def _runtime_counts(lines: list[str]) -> list[str]:
    """``lines`` with their loops over elements counted up to a bound LLVM cannot see as a
    constant (``range(0, 14 + _u)``, ``_u`` zero at run time), a first line defining ``_u``.

    With literal counts LLVM unrolls the nested small loops of a large model completely, and
    the machine code, and the time to optimise it, grow many times over: the migration
    system's Euler step took 28 s of CPU to compile, 9 s with these counts, its run the same
    speed. So the outermost loops and the nested ones of more than :data:`_SMALL_LOOP`
    iterations get run-time counts; small nested loops and reductions' inner loops
    (``r<n>``) keep their literal ones, which LLVM unrolls into little code. The loops run the
    same iterations in the same order, so the results are the same bits.
    ``_u = min(y.shape[0] - NY, 0)``: zero for the state vector every caller passes (NY
    slots) and never positive, so no loop can run past its variable's slots.
    """
    out = []
    loops: list[int] = []  # the indentation of the loops the line is in
    for line in lines:
        if not _is_comment(line):
            depth = len(line) - len(line.lstrip(" "))
            while loops and loops[-1] >= depth:
                loops.pop()
        m = _ELEMENT_LOOP.match(line)
        if m is None:
            if line.lstrip().startswith("for "):
                loops.append(depth)
            out.append(line)
            continue
        loops.append(depth)
        head, first, second = m.groups()
        count = int(first) if second is None else int(second) - int(first)
        if len(loops) > 1 and count <= _SMALL_LOOP:
            out.append(line)
            continue
        bounds = f"{first} + _u" if second is None else f"{first}, {second} + _u"
        out.append(f"{head}{bounds}):")
    if out != lines:
        out.insert(0, "    _u = min(y.shape[0] - NY, 0)")
    return out


# A subscript of one of the model's arrays (not a slice, not a module table such as T0[k]).
_SUBSCRIPT = re.compile(r"(?<![\w.])(a|y|p|dydt)\[")


def _unsigned_indices(line: str) -> str:
    """``line`` with the computed index of each subscript of the model's arrays cast to an
    unsigned integer: ``a[np.uint64(i + 40)]`` for ``a[i + 40]``.

    numba reads ``a[k]`` for a signed ``k`` as Python does, ``a[k + n]`` when ``k`` is
    negative, and LLVM removes that test only when it can prove ``k >= 0``; in the loops of
    a large function it often cannot, and the loop then runs element by element with a
    branch per read instead of in SIMD registers (the default corridor's stock update, 85,122
    stocks: 11.8 ms for 111 calls, 6.8 ms with literal loop bounds). The generated indices are
    slot offsets plus loop counters, never negative, so the cast changes no value read: the
    results are the same bits. Literal indices are left as they are (the test is folded).
    Only in a large model's code: in a small model's (inlined into the Euler step) LLVM
    removes the tests itself, and the 100-stock ageing chain ran 3 % slower with the casts
    (ageing100/kernel-total 95 us against 92 us)."""
    out: list[str] = []
    i = 0
    while True:
        m = _SUBSCRIPT.search(line, i)
        if m is None:
            out.append(line[i:])
            return "".join(out)
        start = j = m.end()
        depth = 1
        while depth:
            depth += {"[": 1, "]": -1}.get(line[j], 0)
            j += 1
        inner = line[start : j - 1]
        if inner.isdigit() or ":" in inner or "," in inner:
            out.append(line[i:start] + _unsigned_indices(inner) + "]")
        else:
            out.append(f"{line[i:start]}np.uint64({_unsigned_indices(inner)})]")
        i = j


# A subscript whose index _unsigned_indices cast, the index a sum of terms without calls.
_CAST_INDEX = re.compile(r"\bnp\.uint64\(([^()]*)\)\]")
# A term of such an index: a literal, a name, or a name times a literal.
_INDEX_TERM = re.compile(r"^(?:(\d+)|([A-Za-z_]\w*)(?: \* (\d+))?)$")
_LOOP_HEAD = re.compile(r"^(\s*)for (\w+) in ")


def _hoisted_indices(lines: list[str], constants: set[int]) -> list[str]:
    """``lines`` (after :func:`_unsigned_indices`) with each index that is a literal plus loop
    counters times literal strides (``a[np.uint64(321 + i0 * 202 + i1 * 101 + i2)]``) read as
    the counters' part, computed in steps at the head of the loops whose counters it uses
    (``_x1 = i0 * 202`` in the ``i0`` loop, ``_x2 = _x1 + i1 * 101`` in the ``i1`` loop,
    ``_x3 = np.uint64(_x2 + i2)`` in the ``i2`` loop), plus the literal as an unsigned module
    constant (``a[_x3 + _U321]``, ``_U321 = np.uint64(321)``; its value is added to
    ``constants``). The counters' part is shared by every index of the loop with the same
    strides (the variables of one shape).

    numba types and lowers every operation of the Python text one by one, and index
    arithmetic was most of a large model's operations (the corridor: 2,372 of 3,853); LLVM
    reduces it the same way itself, so the compile has fewer statements to type and lower for
    the same machine loops. Measured on the default corridor: numba IR statements 20,772 ->
    17,286, compile CPU 0.81-1.02 of before, median 0.92 (six alternating rounds on a host
    loaded by other jobs), its run no slower. The steps add the same non-negative integers
    (int64, far from overflowing, then unsigned as before), so every index, and every result,
    is the same."""
    out: list[str] = []
    # the loops the line is in: indentation, counter, and the steps computed at its head
    # (text -> local)
    loops: list[tuple[int, str, dict[str, str]]] = []
    heads: dict[int, dict[str, str]] = {}
    count = 0

    def hoist(m: re.Match[str]) -> str:
        nonlocal count
        constant = 0
        terms: list[tuple[int, str, str]] = []  # (loop level, counter, stride)
        for text in m.group(1).split(" + "):
            t = _INDEX_TERM.match(text)
            if t is None:
                return m.group(0)
            if t.group(1) is not None:
                constant += int(t.group(1))
                continue
            level = next(
                (k for k in range(len(loops) - 1, -1, -1) if loops[k][1] == t.group(2)), None
            )
            if level is None or any(level == known for known, _, _ in terms):
                return m.group(0)
            terms.append((level, t.group(2), t.group(3)))
        if not terms:
            return m.group(0)
        terms.sort()
        previous = ""
        for k, (level, counter, stride) in enumerate(terms):
            step = counter + (f" * {stride}" if stride else "")
            if previous:
                step = f"{previous} + {step}"
            if k == len(terms) - 1:
                step = f"np.uint64({step})"
            steps = loops[level][2]
            if step not in steps:
                count += 1
                steps[step] = f"_x{count}"
            previous = steps[step]
        if not constant:
            return f"{previous}]"
        constants.add(constant)
        steps = loops[terms[-1][0]][2]
        step = f"{previous} + _U{constant}"
        if step not in steps:
            count += 1
            steps[step] = f"_x{count}"
        return f"{steps[step]}]"

    for line in lines:
        if _is_comment(line):
            out.append(line)
            continue
        depth = len(line) - len(line.lstrip(" "))
        while loops and loops[-1][0] >= depth:
            loops.pop()
        out.append(_CAST_INDEX.sub(hoist, line))
        head = _LOOP_HEAD.match(line)
        if head is not None:
            steps: dict[str, str] = {}
            heads[len(out) - 1] = steps
            loops.append((depth, head.group(2), steps))
    if not count:
        return lines
    result: list[str] = []
    for k, line in enumerate(out):
        result.append(line)
        if heads.get(k):
            indent = " " * (len(line) - len(line.lstrip(" ")) + 4)
            result += [f"{indent}{name} = {step}" for step, name in heads[k].items()]
    return result


def _output_guards(
    lines: list[str], model: Any, output_only: set[str], first: int
) -> tuple[list[str], dict[str, int]]:
    """The output-only code ``lines`` with each block (the comments naming its variables, then
    their code: one variable's, or a loop several were fused into) under ``if p[k] != 0.0:``,
    ``k`` a slot of its own from ``first`` on; and each variable's slot."""
    comments = {f"    # {_comment(name)} (eq)": name for name in output_only}
    blocks: list[tuple[list[str], list[str]]] = []
    for k, line in enumerate(lines):
        comment = line.startswith("    # ")
        if not blocks or (comment and not lines[k - 1].startswith("    # ")):
            blocks.append(([], []))
        blocks[-1][0 if comment and not blocks[-1][1] else 1].append(line)
    out: list[str] = []
    needs: dict[str, int] = {}
    slot = first
    for head, code in blocks:
        names = [comments[line] for line in head if line in comments]
        out += head
        if not names or not code:
            out += code
            continue
        out.append(f"    if p[{slot}] != 0.0:")
        out += ["    " + line for line in code]
        needs.update((name, slot) for name in names)
        slot += 1
    return out, needs


def _random_calls(plan: Plan) -> set[str]:
    """The random functions the model calls (:data:`engine.builtins.RANDOM`)."""
    found: set[str] = set()
    for var in plan.model.variables.values():
        for pieces in (var.pieces, var.init_pieces or [], var.rate or []):
            for piece in pieces:
                found.update(
                    n.func for n in walk(piece.expr) if isinstance(n, Call) and n.func in RANDOM
                )
    return found


def _fill_hooks(template: str, hooks: dict[str, bool]) -> str:
    """A solver template (:data:`engine.solvers.SOURCE`) with its hook lines resolved: a line
    marked ``{name}`` keeps its statement when the model has code for hook ``name`` and goes
    otherwise (see :mod:`engine.solvers`); a line marked with several keeps it when the model
    has code for each. An unknown hook name is refused, so a template and
    the assembler cannot drift apart silently."""
    lines = []
    for line in template.split("\n"):
        body = line.lstrip(" ")
        if body.startswith("{"):
            keep, statement = True, body
            while statement.startswith("{"):  # one or more hooks, all needed
                name, _, statement = statement[1:].partition("} ")
                if name not in hooks:
                    raise AssertionError(f"solver template: unknown hook {{{name}}} in {line!r}")
                keep = keep and hooks[name]
            if keep:
                lines.append(line[: len(line) - len(body)] + statement)
            continue
        lines.append(line)
    return "\n".join(lines)
