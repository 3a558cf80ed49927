"""Time from a fresh clone to a served home page (`make run`), with empty package caches.

Clones the committed HEAD into a temporary directory, runs `make run` there on its port 8000
with fresh uv and pip caches, polls http://127.0.0.1:8019/ until it answers, then stops
everything with Ctrl-C (SIGINT) and checks it stopped cleanly. Prints the seconds.
Goal (issue 2): ≤ 180 s.  Run: `.venv/bin/python bench/bench_fresh_clone.py`
(not part of `binome bench`: it installs everything anew).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 8000  # `make run` serves on its fixed port
LIMIT_S = 600


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="binome-clone-") as tmp:
        clone = Path(tmp) / "binome"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        env = {
            **os.environ,
            "UV_CACHE_DIR": str(Path(tmp) / "uv-cache"),
            "PIP_NO_CACHE_DIR": "1",
        }
        env.pop("BINOME_VAR_DIR", None)
        env.pop("VIRTUAL_ENV", None)
        start = time.perf_counter()
        run = subprocess.Popen(
            ["make", "run"],
            cwd=clone,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        served = None
        while time.perf_counter() - start < LIMIT_S and run.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/", timeout=2) as page:
                    if page.status == 200:
                        served = time.perf_counter() - start
                        break
            except OSError:
                time.sleep(0.5)
        lock = clone / "var" / "binome-run.lock"
        if lock.exists() and lock.read_text().strip():
            os.kill(int(lock.read_text().strip()), signal.SIGINT)
        run.wait(timeout=60)
        if served is None:
            raise SystemExit("fresh clone: not serving within the limit")
        print(f"fresh clone → serving (make run, empty caches): {served:.1f} s  (goal ≤ 180 s)")
        print(f"stopped with Ctrl-C: exit code {run.returncode}")


if __name__ == "__main__":
    main()
