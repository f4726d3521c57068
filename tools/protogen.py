"""Generate Python code and the event catalogue from proto/ (the single source of both).

    python tools/protogen.py           write libs/contracts/src/finance/** and docs/events.md
    python tools/protogen.py --check   fail if either is stale (CI runs this)
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

import grpc_tools
from google.protobuf import descriptor_pb2
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto"
OUT_PKG = ROOT / "libs" / "contracts" / "src"
CATALOGUE = ROOT / "docs" / "events.md"
# Meanings of the fields every event carries, used where a proto leaves them undocumented.
COMMON_FIELDS = {
    "company_id": "Company (legal entity) whose books the fact belongs to.",
    "document_number": "Business document number, as users know it.",
    "occurrence_date": "Date the fact happened; sets the accounting period.",
    "currency": "Transaction currency (ISO 4217).",
    "dimensions": "Analysis dimensions carried to the journal lines.",
}


def _protos() -> list[str]:
    return sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))


def _protoc(args: list[str]) -> None:
    include = str(Path(grpc_tools.__file__).parent / "_proto")
    rc = protoc.main(["grpc_tools.protoc", f"-I{PROTO}", f"-I{include}", *args, *_protos()])
    if rc != 0:
        sys.exit(f"protoc failed with exit code {rc}")


def generate_code(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    _protoc([f"--python_out={out}", f"--pyi_out={out}", f"--grpc_python_out={out}"])
    for d in [out / "finance", *(p for p in (out / "finance").rglob("*") if p.is_dir())]:
        (d / "__init__.py").touch()


def _comments(fd: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], str]:
    return {
        tuple(loc.path): " ".join(loc.leading_comments.split())
        for loc in fd.source_code_info.location
        if loc.leading_comments
    }


def _event_spec(msg: descriptor_pb2.DescriptorProto) -> dict[str, str] | None:
    # The custom option is kept as unknown fields in the raw descriptor; decode it with
    # the generated extension so the catalogue and the runtime registry read the same thing.
    from finance.common.v1 import types_pb2

    opts = msg.options
    raw = opts.SerializeToString()
    parsed = descriptor_pb2.MessageOptions.FromString(raw)
    if not parsed.HasExtension(types_pb2.event):
        return None
    spec = parsed.Extensions[types_pb2.event]
    return {"topic": spec.topic, "key": spec.key, "producer": spec.producer}


def _type_name(field: descriptor_pb2.FieldDescriptorProto) -> str:
    if field.type_name:
        name = field.type_name.lstrip(".").removeprefix("finance.common.v1.")
    else:
        name = descriptor_pb2.FieldDescriptorProto.Type.Name(field.type)[5:].lower()
    if field.label == descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED:
        return f"repeated {name}"
    return name


def generate_catalogue(out_file: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ds = Path(tmp) / "set.pb"
        _protoc([f"--descriptor_set_out={ds}", "--include_source_info", "--include_imports"])
        fds = descriptor_pb2.FileDescriptorSet.FromString(ds.read_bytes())
    lines = [
        "# Event catalogue",
        "",
        "Generated from `proto/` by `make proto`; do not edit by hand.",
        "",
        "Every event is a Kafka record in CloudEvents binary mode: headers `ce_specversion`,",
        "`ce_id` (UUIDv7, the idempotency key), `ce_type`, `ce_source`, `ce_time`, `ce_subject`",
        "(the aggregate id), `content-type: application/protobuf`, `traceparent`; the record key",
        "is the aggregate id; the value is the protobuf payload. `ce_type` is",
        "`finance.<context>.<Message>.v1`. Money is `Money{currency_code, units, nanos}`, never",
        "a float. Dead letters of a consuming context go to `finance.<context>.dlq.v1`.",
        "",
    ]
    events: list[tuple[str, str, str, dict[str, str], list[str]]] = []
    for fd in fds.file:
        if not fd.package.startswith("finance.") or fd.package == "finance.common.v1":
            continue
        comments = _comments(fd)
        for i, msg in enumerate(fd.message_type):
            spec = _event_spec(msg)
            if spec is None:
                continue
            context = fd.package.split(".")[1]
            ce_type = f"finance.{context}.{msg.name}.v1"
            rows = []
            for j, field in enumerate(msg.field):
                doc = comments.get((4, i, 2, j)) or COMMON_FIELDS.get(field.name, "")
                rows.append(f"| `{field.name}` | {_type_name(field)} | {doc} |")
            events.append((spec["topic"], ce_type, comments.get((4, i), ""), spec, rows))
    for topic in sorted({e[0] for e in events}):
        lines += [f"## Topic `{topic}`", ""]
        for _, ce_type, doc, spec, rows in sorted(e for e in events if e[0] == topic):
            lines += [
                f"### `{ce_type}`",
                "",
                doc,
                "",
                f"- producer: `{spec['producer']}`",
                f"- key: `{spec['key']}`",
                "",
                "| field | type | meaning |",
                "|---|---|---|",
                *rows,
                "",
            ]
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text("\n".join(lines).rstrip() + "\n")


def _same_tree(a: Path, b: Path) -> list[str]:
    diffs = []
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__"])
    stack = [cmp]
    while stack:
        c = stack.pop()
        diffs += [str(Path(c.left) / f) for f in c.left_only + c.right_only + c.diff_files]
        stack += list(c.subdirs.values())
    return diffs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true", help="fail if generated files are stale")
    args = ap.parse_args()
    sys.path.insert(0, str(OUT_PKG))
    if not args.check:
        shutil.rmtree(OUT_PKG / "finance", ignore_errors=True)
        generate_code(OUT_PKG)
        generate_catalogue(CATALOGUE)
        print(f"generated {OUT_PKG / 'finance'} and {CATALOGUE}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        generate_code(Path(tmp))
        stale = _same_tree(Path(tmp) / "finance", OUT_PKG / "finance")
        cat = Path(tmp) / "events.md"
        generate_catalogue(cat)
        if not CATALOGUE.exists() or cat.read_text() != CATALOGUE.read_text():
            stale.append(str(CATALOGUE))
    if stale:
        sys.exit("generated code is stale, run `make proto`:\n  " + "\n  ".join(sorted(stale)))
    print("generated code is up to date")


if __name__ == "__main__":
    main()
