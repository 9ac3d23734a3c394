"""Training progress without a terminal (a CI log, a ``nohup`` file, a pipe): a plain line every few seconds with
what was trained, the rate, the loss and the time left, where a progress bar would write hundreds of
carriage-return updates. On a terminal the Trainer draws tqdm's bar instead; this takes the calls it makes."""

from __future__ import annotations

import sys
import time

INTERVAL = 10.0  # seconds between lines


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
