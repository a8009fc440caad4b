"""Run inside PyPy by ``benchmarks/pypy_compare.py``: time our engine on kernel modules.

Python 3.9 and the standard library only (it runs on Debian's pypy3, the project's other
packages need 3.10). Reads a JSON list of jobs on stdin ({"name", "wasm", "size", "runs",
"warmup", "mode"}) and prints one JSON object per job: median seconds and the last result.
"""

import json
import statistics
import sys
import time

from engine import Config, Engine, Instance, Module, Store


def run_job(job: dict) -> dict:
    config = Config()
    if job.get("mode"):
        config.compilation_mode = job["mode"]
    engine = Engine(config)
    store = Store(engine)
    with open(job["wasm"], "rb") as f:
        instance = Instance(store, Module(engine, f.read()), [])
    func = instance.exports(store)["run"]
    size = job["size"]
    results = [func(store, size) for _ in range(job["warmup"])]  # JIT warm-up
    times = []
    for _ in range(max(1, job["runs"])):
        start = time.perf_counter()
        results.append(func(store, size))
        times.append(time.perf_counter() - start)
    return {"name": job["name"], "seconds": statistics.median(times), "results": results}


def main() -> int:
    for job in json.load(sys.stdin):
        try:
            out = run_job(job)
        except Exception as exc:  # noqa: BLE001 - reported per kernel by the parent
            out = {"name": job["name"], "error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
