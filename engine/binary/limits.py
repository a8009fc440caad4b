"""Implementation limits of a decoded module (``Config.limits``, wasmparser's manner).

The decoder checks the module-level counts once the sections are read (``read_len`` has
already bounded every count by the input size, so nothing was over-allocated before), and
the per-body bounds as bodies are decoded (locals) or validated (nesting, br_table).
"""

from __future__ import annotations

from ..config import ImplLimits
from ..errors import ImplementationLimitError
from .module import FUNC, GLOBAL, MEMORY, TABLE, TAG, ModuleInfo


def check(what: str, limit: str, value: int, limits: ImplLimits, where: str) -> None:
    """Raise ImplementationLimitError when ``value`` exceeds ``limits.<limit>``."""
    maximum = getattr(limits, limit)
    if value > maximum:
        raise ImplementationLimitError(what, limit, value, maximum, where)


def check_module(info: ModuleInfo, limits: ImplLimits) -> None:
    """The module-level limits: counts per index space and section, type arities, body
    sizes. O(types + functions)."""
    kinds = {FUNC: 0, TABLE: 0, MEMORY: 0, GLOBAL: 0, TAG: 0}
    for imp in info.imports:
        kinds[imp.kind] += 1
    check("too many types", "max_types", len(info.types), limits, "the type section")
    for i, ft in enumerate(info.types):
        check("too many parameters", "max_params", len(ft.params), limits, f"type {i}")
        check("too many results", "max_results", len(ft.results), limits, f"type {i}")
    check("too many imports", "max_imports", len(info.imports), limits, "the import section")
    check("too many exports", "max_exports", len(info.exports), limits, "the export section")
    check("too many functions", "max_functions", kinds[FUNC] + len(info.funcs), limits,
          "the module")
    check("too many tables", "max_tables", kinds[TABLE] + len(info.tables), limits, "the module")
    check("too many memories", "max_memories", kinds[MEMORY] + len(info.mems), limits,
          "the module")
    check("too many globals", "max_globals", kinds[GLOBAL] + len(info.globals), limits,
          "the module")
    check("too many element segments", "max_element_segments", len(info.elems), limits,
          "the element section")
    check("too many data segments", "max_data_segments", len(info.datas), limits,
          "the data section")
    biggest = max(info.code_lengths, default=0)
    if biggest > limits.max_function_size:
        i = list(info.code_lengths).index(biggest)
        check("function body too large", "max_function_size", biggest, limits,
              f"function {kinds[FUNC] + i}")
