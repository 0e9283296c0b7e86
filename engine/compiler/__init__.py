"""Compiler: generate numba source for a model's kernels, compile it once, cache it on disk.

The generated module (kept inspectable as :attr:`CompiledModel.source`) defines, over flat
float64 arrays ``y`` (stocks), ``p`` (parameters and lookup tables), ``a`` (auxiliaries and
flows) and ``z`` (discrete state such as fixed-delay pipelines):

- ``init(t, p, y, a, z, h)``: initial stocks, constant auxiliaries, INITIAL values;
- ``aux(t, y, p, a, z, h)``: every time-varying auxiliary and flow the stocks' rates need;
- ``aux_out(t, y, p, a, z, h)``: the other time-varying auxiliaries, only at save times,
  each block of them under a flag in ``p`` that the Runner clears when the run saves none of
  its variables nor anything reading them (:func:`engine.simulation.output_flags`);
- ``deriv(t, y, p, a, z, h, dydt)``: ``aux`` then the net rate of every stock;
- the Euler step split in two, ``aux``'s code plus the rates of stocks given a net rate, then
  ``y += h * rate`` with the flows of flow-fed stocks summed in place (no ``dydt`` pass; the
  same operations, so the same bits as ``deriv``): in a small model written into ``run_euler``
  itself at the calls of the template (what numba's ``inline="always"`` made of functions
  ``_euler_rates`` / ``_euler_update``, without numba copying and re-analysing their code at
  every compile); in a large model, functions ``_euler_rates`` / ``_euler_update``, the rate
  code itself is cut into ``_rates<k>`` functions of ~60 lines (and the
  output-only code into ``_out<k>``) that ``run_euler`` calls directly rather than through
  ``aux``, ``_euler_rates`` or ``aux_out``, and through pointers (numba first-class functions
  in the tuple ``fns``, the Euler kernels' last argument, which
  :meth:`CompiledModel.runner` supplies), as it calls ``init``: numba links the code of a
  function called by name into its caller and optimises and compiles it there again, so the
  model's code was compiled twice; its loops over elements are counted at run time so LLVM
  does not unroll nested loops into code that takes minutes to compile, and its computed
  indices are cast to unsigned integers so that numba emits no negative-index test
  (:mod:`.assembly`), and its adjacent loops over the same range are joined level by level
  where an element-level check proves no read changes (:func:`.fusion.fuse_nests`: numba's
  compile costs ~20 ms a loop); functions called only from compiled code have no CPython
  wrapper, and no C wrapper unless called through a pointer;
- the fused step: in a small model without ``pre_step``, the rates and the stock update in
  one pass, written into ``run_euler`` (in place of the template's ``_euler_fused`` call),
  which runs it at the steps that save nothing (:func:`.fusion.fuse_step`:
  the update joins the rate loops, run forwards or backwards, with a value one element computes
  for the next carried in a local, where element-level dependence analysis proves every read
  sees the value of the unfused step: the same bits);
- ``pre_step`` / ``post_step``: discrete updates (fixed delays, cohort shifts, clamping);
- ``run_euler``, ``run_rk4``, ``run_rk45``: the solvers of :mod:`engine.solvers` (a small
  model's ``run_euler`` checks once per run whether the run saves the default outputs, every
  variable but parameters, and then saves them by copies written into it rather than by
  :func:`engine.kernels._save`'s loop over the runs table: the same copies and checks, the
  same bits; :func:`.assembly._default_save`), and
  ``run_members_<method>``: one ensemble chunk, numba ``prange`` over members.

Model-independent helpers (Vensim builtins, fixed delays' ring buffers, saving, work arrays)
are imported from :mod:`engine.kernels`, compiled once per machine rather than once per model
(those taking integer offsets for one signature, :func:`engine.kernels.typed`, not once per
literal offset).

While the generated module compiles, numba's typing of calls remembers which of a function's
templates matched each call form, so the thousands of call sites of a large model's few dozen
forms skip the templates that failed for them before (:mod:`.typing_memo`: the same types,
the same code).

Identifiers in generated code are produced by the compiler (slot offsets, loop counters,
table numbers); model names appear only as ``repr`` (ASCII-escaped, so on one line) inside
comments, so a hostile model file cannot inject code. Before it is written or loaded, the
module's shape is checked with :mod:`ast` (:mod:`engine.codecheck`). Modules are kept in the
private cache directory (:mod:`engine.cache`) keyed by the source's hash, run from the
checked text, and compiled with numba ``cache=True``, so a second process loads machine code
from disk. In-process caches are keyed by :meth:`~engine.spec.Model.content_hash`, so a
model changed after a run is compiled again.

Layout: :mod:`.loading` (the in-process and disk caches, loading a checked module,
:func:`compile_model`), :mod:`.expressions` (code for equations: ``_Gen``),
:mod:`.stocks` (stock rates and updates, non-negative limits, fixed delays, cohort shifts),
:mod:`.assembly` (the module's text: :func:`generate_source`), :mod:`.fusion` (loop
fusion) and :mod:`.layout` (output columns and their copy runs).
"""

from __future__ import annotations

from ..cache import cache_dir
from .assembly import generate_source
from .fusion import fuse_loops as fuse_loops
from .loading import CompiledModel, compile_model
from .loading import _warm as _warm
from .loading import discrete_state as discrete_state

__all__ = ["CompiledModel", "compile_model", "cache_dir", "generate_source"]
