"""Stocks and discrete updates: rates and Euler updates of stocks, the limits that keep
non-negative stocks at zero, fixed-delay pipelines and cohort shifts."""

from __future__ import annotations

from typing import Any

from ..spec import Variable
from .expressions import _comment, _Gen, _strides


def _flow_terms(gen: _Gen, var: Variable) -> list[str]:
    """A stock's inflows and outflows as terms " + a[i + off]" (i: the stock's slot)."""
    plan = gen.plan
    slot = plan.slots[var.name]
    terms = []
    for sign, flows in (("+", var.inflows), ("-", var.outflows)):
        for flow in flows:
            off = plan.slots[flow].offset - slot.offset
            terms.append(f" {sign} a[i + {off}]")
    return terms


def _flow_sum(terms: list[str]) -> str:
    expression = "".join(terms).strip() or "0.0"
    if expression.startswith("+ "):
        expression = expression[2:]
    elif expression.startswith("- "):
        expression = "-" + expression[2:]
    return expression


def _stock_rate(gen: _Gen, var: Variable) -> list[str]:
    slot = gen.plan.slots[var.name]
    lines = []
    terms = _flow_terms(gen, var)
    if var.rate is not None:
        lines += gen.assign(var, "rate", "dydt", slot.offset)
        if terms:
            lines.append(f"    for i in range({slot.offset}, {slot.offset + slot.size}):")
            lines.append(f"        dydt[i] = dydt[i]{''.join(terms)}")
        return lines
    lines.append(f"    for i in range({slot.offset}, {slot.offset + slot.size}):")
    lines.append(f"        dydt[i] = {_flow_sum(terms)}")
    return lines


def _stock_update(gen: _Gen, var: Variable) -> list[str]:
    """The Euler update of a stock: ``y += h * dydt``, with a stock fed by flows summing them
    in place (the same operations as its ``dydt`` in :func:`_stock_rate`, so the same bits;
    flows are not changed by the update or by ``pre_step``, which writes only ``z``)."""
    slot = gen.plan.slots[var.name]
    rate = "dydt[i]" if var.rate is not None else f"({_flow_sum(_flow_terms(gen, var))})"
    return [
        f"    for i in range({slot.offset}, {slot.offset + slot.size}):",
        f"        y[i] += h * {rate}",
    ]


def _nonnegative_limits(gen: _Gen) -> list[tuple[list[str], list[str]]]:
    """Per non-negative stock, the code limiting its flows so that one step cannot take the
    stock below zero, each with the flows that must be computed before it runs.

    First the outflows: they share what the stock holds at the start of the step, in
    proportion to their demands. Then, once every flow of the stock is computed, its negative
    inflows (a negative inflow drains the stock like an outflow, as Stella's biflows do) share
    what the outflows left. Limiting the flows themselves (not the stock afterwards) keeps every
    flow's outflow equal to its inflow elsewhere, so totals are conserved exactly; the limits
    do not count on same-step inflows, so they do not depend on the order stocks are processed
    in. (What reads an inflow before all the stock's flows are computed sees it unlimited: the
    graph orders readers after sibling outflows only, since an inflow often depends on what
    reads an outflow.)
    """
    plan = gen.plan
    out: list[tuple[list[str], list[str]]] = []
    for var in gen.model.variables.values():
        if var.kind != "stock" or not var.non_negative:
            continue
        slot = plan.slots[var.name]
        if var.outflows:
            outs = " + ".join(f"max(a[{plan.slots[f].offset} + i], 0.0)" for f in var.outflows)
            loop = [
                f"    for i in range({slot.size}):",
                f"        avail = max(y[{slot.offset} + i], 0.0) / h",
                f"        total = {outs}",
                "        if total > avail:",
                "            f = avail / total",
            ]
            for flow in var.outflows:
                off = plan.slots[flow].offset
                loop += [
                    f"            if a[{off} + i] > 0.0:",
                    f"                a[{off} + i] *= f",
                ]
            test = f"({outs}) > max(y[{slot.offset} + i], 0.0) / h"
            lines = [
                f"    # limit outflows of non-negative stock {_comment(var.name)}",
                *_tested(gen, slot.size, test, loop),
            ]
            out.append((list(var.outflows), lines))
        if var.inflows:
            outs = " - ".join(
                [f"max(y[{slot.offset} + i], 0.0) / h"]
                + [f"max(a[{plan.slots[f].offset} + i], 0.0)" for f in var.outflows]
            )
            negative = " + ".join(f"max(-a[{plan.slots[f].offset} + i], 0.0)" for f in var.inflows)
            loop = [
                f"    for i in range({slot.size}):",
                f"        total = {negative}",
                "        if total > 0.0:",
                f"            room = max({outs}, 0.0)",
                "            if total > room:",
                "                f = room / total",
            ]
            for flow in var.inflows:
                off = plan.slots[flow].offset
                loop += [
                    f"                if a[{off} + i] < 0.0:",
                    f"                    a[{off} + i] *= f",
                ]
            lines = [
                f"    # limit negative inflows of non-negative stock {_comment(var.name)}",
                *_tested(gen, slot.size, f"({negative}) > 0.0", loop),
            ]
            out.append(([*var.outflows, *var.inflows], lines))
    return out


# A limit over fewer elements than this runs its loop directly (see _tested).
_TESTED_SIZE = 64


def _tested(gen: _Gen, size: int, condition: str, loop: list[str]) -> list[str]:
    """A limit's ``loop`` over ``size`` elements, run only when ``condition`` holds for some
    element ``i``, found first by a loop that only reads (an OR over the elements).

    A limit binds rarely; its loop, with stores under conditions, is compiled into SIMD code
    that computes both divisions and masks the stores for every element, while the test's
    loop only reads, also in SIMD registers. When no element needs limiting the limit's loop
    is skipped; when one does it runs as before, so the results are the same bits (the
    default corridor's limits: 17.5 ms of a 77 ms run, measured by leaving them out; one
    of them alone 4.3 ms for 111 calls, 2.1 ms with this test first). A limit of fewer than
    :data:`_TESTED_SIZE` elements keeps its loop alone: the test saves nothing there, and
    each loop costs compile time."""
    if size < _TESTED_SIZE:
        return loop
    flag = gen.fresh("over")
    return [
        f"    {flag} = False",
        f"    for i in range({size}):",
        f"        {flag} = {flag} | ({condition})",
        f"    if {flag}:",
        *["    " + line for line in loop],
    ]


def _delay_fixed_init(gen: _Gen, var: Variable, offset: int, controls: dict[str, int]) -> list[str]:
    """Fixed delays keep a ring buffer per element in z (the layout and the code:
    :func:`engine.kernels._delay_fixed_length` and its neighbours, compiled once per machine
    rather than written into every model's init, pre_step and aux)."""
    base = controls.setdefault("_zcount", 0)
    size = gen.plan.slots[var.name].size
    controls[f"_dfbase:{var.name}"] = base
    controls["_zcount"] = base + size
    lines = [f"    # fixed delay {_comment(var.name)}: the output starts at its initial value"]
    # delay time into a scratch copy of the output slot, then the initial value.
    lines += gen.assign(_role_var(var, 1), "eq", "a", offset)
    lines.append(f"    _delay_fixed_length(z, a, {offset}, {base}, {size}, h)")
    lines += gen.assign(_role_var(var, 2), "eq", "a", offset)
    lines.append(f"    _delay_fixed_fill(z, a, {offset}, {base}, {size})")
    return lines


def _delay_fixed_read(gen: _Gen, var: Variable, offset: int, controls: dict[str, int]) -> list[str]:
    base = controls[f"_dfbase:{var.name}"]
    size = gen.plan.slots[var.name].size
    return [
        f"    # fixed delay {_comment(var.name)}: output",
        f"    _delay_fixed_read(z, a, {offset}, {base}, {size})",
    ]


def _delay_fixed_push(gen: _Gen, var: Variable, controls: dict[str, int]) -> list[str]:
    base = controls[f"_dfbase:{var.name}"]
    size = gen.plan.slots[var.name].size
    input_var = var.extra["input"]
    in_offset = gen.plan.slots[input_var].offset
    return [
        f"    # fixed delay {_comment(var.name)}: push the input",
        f"    _delay_fixed_push(z, a, {in_offset}, {base}, {size})",
    ]


def _sample_push(gen: _Gen, var: Variable) -> list[str]:
    """SAMPLE IF TRUE: the held value (a stock without rate) takes the function's value."""
    held = gen.plan.slots[var.name]
    value = gen.plan.slots[var.extra["sample_from"]]
    return [
        f"    # sample if true {_comment(var.name)}: hold this step's value",
        f"    for e in range({held.size}):",
        f"        y[{held.offset} + e] = a[{value.offset} + e]",
    ]


def _role_var(var: Variable, k: int) -> Variable:
    """A view of a delay_fixed variable whose equation is its k-th piece (delay, initial)."""
    from ..spec import Piece

    view = Variable(var.name, var.kind, var.dims, units=var.units)
    view.pieces = [Piece(var.pieces[k].subs, var.pieces[k].expr, var.pieces[k].exclude)]
    return view


def _cohort_shift(gen: _Gen, shift: Any, period_slot: int) -> list[str]:
    model = gen.model
    stock = model.variables[shift.stock]
    slot = gen.plan.slots[shift.stock]
    axis = stock.dims.index(shift.along)
    shape = slot.shape
    strides = _strides(shape)
    n = shape[axis]
    stride = strides[axis]
    entry = gen.plan.slots[f"{shift.stock}~entry"].offset if shift.entry else None
    outer = [range(m) for i, m in enumerate(shape) if i != axis]
    outer_strides = [s for i, s in enumerate(strides) if i != axis]
    bases = []
    import itertools

    for combo in itertools.product(*outer):
        bases.append(sum(c * s for c, s in zip(combo, outer_strides)))
    table = gen.table(tuple(bases))
    lines = [
        f"    # cohort shift of {_comment(shift.stock)} along {_comment(shift.along)}",
        f"    period = int(p[{period_slot}])",
        "    if period > 0 and step % period == 0:",
        f"        for base in {table}:",
    ]
    if entry is None:
        lines += [
            f"            last = y[{slot.offset} + base + {(n - 1) * stride}]",
            f"            for k in range({n - 1}, 0, -1):",
            f"                y[{slot.offset} + base + k * {stride}] = "
            f"y[{slot.offset} + base + (k - 1) * {stride}]",
            f"            y[{slot.offset} + base + {(n - 1) * stride}] += last",
            f"            y[{slot.offset} + base] = 0.0",
        ]
    else:
        lines += [
            f"            last = y[{slot.offset} + base + {(n - 1) * stride}] - "
            f"y[{entry} + base + {(n - 1) * stride}]",
            f"            for k in range({n - 1}, 0, -1):",
            f"                y[{slot.offset} + base + k * {stride}] = "
            f"y[{slot.offset} + base + (k - 1) * {stride}] - y[{entry} + base + (k - 1) * {stride}]"
            f" + y[{entry} + base + k * {stride}]",
            f"            y[{slot.offset} + base + {(n - 1) * stride}] += last",
            f"            y[{slot.offset} + base] = y[{entry} + base]",
            f"            for k in range({n}):",
            f"                y[{entry} + base + k * {stride}] = 0.0",
        ]
    return lines
