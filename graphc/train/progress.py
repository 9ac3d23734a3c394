"""Training progress without a terminal (a CI log, a ``nohup`` file, a pipe): a plain line every few seconds with
what was trained, the rate, the loss and the time left, where a progress bar would write hundreds of
carriage-return updates. On a terminal the Trainer draws tqdm's bar instead; this takes the calls it makes. And
the compile clock: the first step's compiling, shown as it happens and said in one line when it is over."""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager

INTERVAL = 10.0  # seconds between lines
TICK = 1.0  # seconds between updates of the bar's compile clock


class LogProgress:
    def __init__(self, total: float | None, unit: str, description: str, interval: float = INTERVAL, file=None):
        self.unit, self.description, self.interval = unit.strip(), description, interval
        self.file, self.postfix = file or sys.stderr, {}
        self.reset(total)

    def reset(self, total: float | None = None) -> None:
        self.total, self.count = total, 0.0
        self.started = self.last = time.perf_counter()

    def set_description(self, description: str, refresh: bool = True) -> None:
        self.description = description

    def set_postfix(self, refresh: bool = True, **values) -> None:
        self.postfix = values

    def update(self, count: float) -> None:
        self.count += count
        if time.perf_counter() - self.last >= self.interval:
            self.write()

    def write(self) -> None:
        self.last = time.perf_counter()
        elapsed = max(self.last - self.started, 1e-9)
        rate = self.count / elapsed
        parts = [f"{self.description}: {self.count:,.0f}" + (f"/{self.total:,.0f}" if self.total else "")
                 + f" {self.unit}", f"{rate:,.0f} {self.unit}/s"]
        parts += [f"{key} {value}" for key, value in self.postfix.items()]
        if self.total and rate > 0:
            left = max(self.total - self.count, 0) / rate
            parts.append(f"ETA {int(left // 60)}:{int(left % 60):02d}")
        print(", ".join(parts), file=self.file, flush=True)

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exception) -> None:
        if self.count:
            self.write()


@contextmanager
def compile_clock(bar, name: str):
    """While the first step compiles (seconds to minutes, no update in between), a terminal's bar shows the time
    it has taken so far, so it does not look hung. Yields ``done(seconds)``, called after that step: it stops the
    clock and writes one line saying how long compiling took (on a terminal or in a log)."""
    stopped = threading.Event()
    started = time.perf_counter()
    ticking = not isinstance(bar, LogProgress) and not getattr(bar, "disable", True)

    def tick():
        while not stopped.wait(TICK):
            bar.set_description(f"{name} (compiling, {time.perf_counter() - started:.0f} s)")

    clock = threading.Thread(target=tick, daemon=True) if ticking else None
    if clock is not None:
        clock.start()

    def stop() -> None:
        stopped.set()
        if clock is not None and clock.is_alive():
            clock.join()

    def done(seconds: float) -> None:
        stop()
        line = f"{name}: compiled the training step in {seconds:.1f} s"
        if isinstance(bar, LogProgress):
            print(line, file=bar.file, flush=True)
        elif ticking:
            bar.write(line, file=sys.stderr)

    try:
        yield done
    finally:
        stop()
