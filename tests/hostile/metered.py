"""pytest plugin: run anything with fuel and epoch interruption on (ample fuel, a far deadline),
to check that metering never changes what wasm computes. For the conformance suite::

    python -m pytest -p tests.hostile.metered spectest/manifest.yaml -n 2 -q

(measured: every d76759e command passes in the three modes, as without metering).
"""

from __future__ import annotations

import engine
from engine.runtime import engine as runtime_engine

_config_init = engine.Config.__init__
_store_init = runtime_engine.Store.__init__


def _config(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
    _config_init(self, *args, **kwargs)
    self.consume_fuel = True
    self.epoch_interruption = True


def _store(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
    _store_init(self, *args, **kwargs)
    if self.engine.config.consume_fuel:
        self.set_fuel(10**15)
    if self.engine.config.epoch_interruption:
        self.set_epoch_deadline(10**9)


engine.Config.__init__ = _config  # type: ignore[method-assign]
runtime_engine.Store.__init__ = _store  # type: ignore[method-assign]
