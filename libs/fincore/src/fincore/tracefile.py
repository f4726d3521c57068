"""Spans in local files, and `finance-trace ID` to read one trace back as a tree.

Why this exists: `make run` should let an SRE follow one sales order across every process
without installing a collector. With OTEL_TRACES_EXPORTER=file each process appends its
spans as JSON lines to its own file (no two writers share a file) under FINANCE_TRACE_DIR;
`finance-trace` joins the files, picks one trace and prints who called whom, with timings.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import click
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

_KINDS = {0: "internal", 1: "server", 2: "client", 3: "producer", 4: "consumer"}


def trace_dir() -> Path:
    default = Path(os.environ.get("FINANCE_DATA_DIR", ".data")) / "traces"
    return Path(os.environ.get("FINANCE_TRACE_DIR", default))


def span_json(span: ReadableSpan) -> dict:
    ctx = span.get_span_context()
    return {
        "trace_id": format(ctx.trace_id, "032x"),
        "span_id": format(ctx.span_id, "016x"),
        "parent_span_id": format(span.parent.span_id, "016x") if span.parent else "",
        "name": span.name,
        "kind": _KINDS.get(span.kind.value, str(span.kind.value)),
        "service": span.resource.attributes.get("service.name", ""),
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "status": span.status.status_code.name,
        "attributes": {k: v if isinstance(v, str | int | float | bool) else list(v)
                       for k, v in (span.attributes or {}).items()},
    }


class JsonLinesSpanExporter(SpanExporter):
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = "".join(json.dumps(span_json(s), separators=(",", ":")) + "\n" for s in spans)
        with self._lock, open(self.path, "a", encoding="utf-8") as out:
            out.write(lines)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def read_trace(directory: Path, trace_id: str) -> list[dict]:
    spans = []
    for path in sorted(directory.glob("*.jsonl")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if trace_id in line:
                    try:
                        span = json.loads(line)
                    except json.JSONDecodeError:  # a line being written right now
                        continue
                    if span["trace_id"] == trace_id:
                        spans.append(span)
    return spans


def render_tree(spans: Iterable[dict]) -> list[str]:
    """One line per span, children indented under their parent, ordered by start time:
    offset from the trace's first span, duration, service, kind, name, status."""
    spans = sorted(spans, key=lambda s: s["start_ns"])
    if not spans:
        return []
    ids = {s["span_id"] for s in spans}
    children: dict[str, list[dict]] = {}
    roots = []
    for s in spans:
        if s["parent_span_id"] and s["parent_span_id"] in ids:
            children.setdefault(s["parent_span_id"], []).append(s)
        else:
            roots.append(s)
    t0 = spans[0]["start_ns"]
    out: list[str] = []

    def walk(span: dict, depth: int) -> None:
        start_ms = (span["start_ns"] - t0) / 1e6
        dur_ms = ((span["end_ns"] or span["start_ns"]) - span["start_ns"]) / 1e6
        status = "" if span["status"] in ("UNSET", "OK") else f"  [{span['status']}]"
        out.append(f"{start_ms:10.1f}ms {dur_ms:9.1f}ms  {'  ' * depth}{span['service']}: {span['name']}"
                   f" ({span['kind']}){status}")
        for child in children.get(span["span_id"], []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return out


@click.command(help="Print one trace (spans written with OTEL_TRACES_EXPORTER=file) as a tree with timings.")
@click.argument("trace_id")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None,
              help="Where the span files are (default: FINANCE_TRACE_DIR or .data/traces).")
def main(trace_id: str, directory: Path | None) -> None:
    directory = directory or trace_dir()
    trace_id = trace_id.strip().lower()
    spans = read_trace(directory, trace_id)
    if not spans:
        raise click.ClickException(f"no spans of trace {trace_id} under {directory} "
                                   "(run with OTEL_TRACES_EXPORTER=file; spans are written within a second)")
    services = sorted({s["service"] for s in spans})
    total_ms = (max(s["end_ns"] or s["start_ns"] for s in spans) - min(s["start_ns"] for s in spans)) / 1e6
    click.echo(f"trace {trace_id}: {len(spans)} spans, {len(services)} services ({', '.join(services)}),"
               f" {total_ms:.1f}ms")
    click.echo(f"{'start':>12} {'duration':>11}  span")
    for line in render_tree(spans):
        click.echo(line)


if __name__ == "__main__":
    main()
