"""corridor's domain models, written in the engine's DSL.

One module per model, each with ``build(**options) -> engine.Model`` (and, for the models others
join, ``add_to(model, ...)``): ``demography``, ``labour``, ``hump``, ``climate``,
``migration_system`` (with ``migration_drivers``), ``corridor`` (the default forecast: the
migration system with its drivers under a scenario) and ``corridor_five_region`` (the previous
default). Import the module you need, e.g. ``from models import hump``.
Each ``build`` is registered in the ``corridor.models`` entry point group (``pyproject.toml``),
which is how the command line finds them by name; the engine never imports this package.
"""
