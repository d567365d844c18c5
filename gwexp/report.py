"""Rich progress while a run works, and summary tables when it ends."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from gwexp.results import RunResult

LATENCY_COLUMNS = ("p50", "p90", "p95", "p99", "p999", "max", "mean")


class QuietConsole(Console):
    """A console that falls silent when its pipe closes (``| tee``, then Ctrl-C).

    rich's own console exits the program there, which would cost the run its
    result.json.
    """

    def on_broken_pipe(self) -> None:
        """Stop writing; the run goes on and writes its files."""
        self.quiet = True


class RichObserver:
    """Shows the open phase as sessions opened, and the window as time and events/s.

    The display never stops a run: once the terminal is gone (a closed pipe
    after Ctrl-C, say) it goes quiet, so the result is still written. It is
    redrawn at each update rather than from a thread of its own for the same
    reason.
    """

    def __init__(self, console: Console | None = None) -> None:
        self._console = console or QuietConsole(stderr=True)
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:.0f}/{task.total:.0f}"),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            console=self._console,
            transient=False,
            auto_refresh=False,
        )
        self._open_task: TaskID | None = None
        self._window_task: TaskID | None = None
        self._warmup_s = 0.0
        self._failed = 0
        self._quiet = False

    def opening(self, session_count: int) -> None:
        """Start the open phase display."""
        self._draw(self._progress.start)
        self._open_task = self._progress.add_task(
            "opening sessions", total=session_count, note=""
        )
        self._draw(self._progress.refresh)

    def session_ready(self, index: int, ok: bool) -> None:
        """Count one session as subscribed or failed."""
        if self._open_task is None:
            return
        self._failed += not ok
        note = f"[red]{self._failed} failed[/red]" if self._failed else ""
        self._progress.update(self._open_task, advance=1, note=note)
        self._draw(self._progress.refresh)

    def measuring(self, warmup_s: float, duration_s: float) -> None:
        """Start the warm-up and window display, in seconds."""
        self._warmup_s = warmup_s
        self._window_task = self._progress.add_task(
            "warm-up + window (s)", total=warmup_s + duration_s, note=""
        )
        self._draw(self._progress.refresh)

    def tick(self, elapsed_s: float, measured_events: int) -> None:
        """Update elapsed time and the measured rate so far."""
        if self._window_task is None:
            return
        measuring_s = elapsed_s - self._warmup_s
        if measuring_s <= 0:
            note = "warming up"
        else:
            note = f"{measured_events / measuring_s:,.1f} events/s"
        self._progress.update(self._window_task, completed=elapsed_s, note=note)
        self._draw(self._progress.refresh)

    def done(self) -> None:
        """Stop the live display."""
        self._draw(self._progress.stop)

    def _draw(self, action: Callable[[], None]) -> None:
        if self._quiet:
            return
        try:
            action()
        except OSError:
            self._quiet = True


def format_ms(value: float | None) -> str:
    """A latency in milliseconds to one decimal, or "-" when there is none."""
    return "-" if value is None else f"{value:,.1f}"


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """`1 fault`, `2 faults`: a count with its noun in the right number."""
    noun = singular if count == 1 else plural or f"{singular}s"
    return f"{count} {noun}"


def print_summary(result: RunResult, output_dir: str, console: Console) -> None:
    """One table of what the run measured, and where its files are."""
    load = result.load
    table = Table(title=f"gwexp run: {result.status}", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    opened = sum(s.subscribed for s in result.sessions)
    table.add_row("gateway", result.gateway)
    table.add_row("sessions subscribed", f"{opened} of {load.session_count}")
    table.add_row("tags subscribed (all sessions)", str(load.tags_subscribed_total))
    table.add_row("window measured (s)", f"{result.window_s:.1f}")
    table.add_row("events in window", f"{result.events_total:,}")
    table.add_row("events/s", f"{result.events_per_sec:,.2f}")
    for name in LATENCY_COLUMNS:
        table.add_row(
            f"latency {name} (ms)", format_ms(getattr(result.latency_ms, name))
        )
    if result.latency_ms.negative_count:
        table.add_row("negative latencies", str(result.latency_ms.negative_count))
    for kind, count in result.fault_counts.items():
        if count:
            table.add_row(f"[red]faults: {kind}[/red]", str(count))
    console.print(table)
    if result.client.warning:
        console.print(f"[yellow]warning: {result.client.warning}[/yellow]")
    console.print(f"result: {output_dir}/result.json")


def print_sweep_table(rows: Sequence[dict[str, Any]], console: Console) -> None:
    """One line per sweep job: what varied, the rate, latency and faults."""
    table = Table(title="gwexp sweep")
    for column in ("job", "overrides", "status", "events/s", "p50 ms", "p95 ms"):
        table.add_column(column, justify="left" if column == "overrides" else "right")
    table.add_column("faults", justify="right")
    for row in rows:
        table.add_row(
            str(row["job"]),
            row["overrides"],
            row["status"],
            "-"
            if row.get("events_per_sec") is None
            else f"{row['events_per_sec']:.2f}",
            format_ms(row.get("p50")),
            format_ms(row.get("p95")),
            str(row.get("faults", "-")),
        )
    console.print(table)
