"""One fit per fresh process, for the benchmarks that measure what a fit adds
to the resident memory (``bench_vq_engines.py``, ``bench_vq_switch.py``).

The parent runs a script with :func:`run_child`; the script, started in this
folder, imports :func:`timed_with_peak` from here and prints one JSON line.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _status_kb(field):
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1])


def timed_with_peak(call):
    """``call()``'s result, its seconds and the MB its peak resident set added.

    Linux only: the peak is reset first (``/proc/self/clear_refs``), since
    making the table peaked higher than the fit.
    """
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    before = _status_kb("VmRSS")
    start = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - start
    return result, seconds, (_status_kb("VmHWM") - before) / 1024


def run_child(script, arguments, what):
    """Run ``script`` with ``arguments`` in a fresh Python; its last line, parsed.

    Exits with the child's error output, naming ``what``, when it fails.
    """
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, arguments)],
        capture_output=True,
        text=True,
        check=False,
        cwd=HERE,
    )
    if done.returncode:
        sys.exit(f"{what} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
