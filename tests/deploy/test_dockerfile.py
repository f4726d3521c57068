"""The image is not built on these machines (no Docker): its Dockerfile is linted by hadolint
(pinned in the lock's dev group), and the rules the deployment relies on are checked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HADOLINT = Path(sys.executable).parent / "hadolint"


def test_hadolint_passes():
    res = subprocess.run([str(HADOLINT), "--failure-threshold", "info", str(ROOT / "Dockerfile")],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_multi_stage_non_root_runtime_from_the_lock():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)\s+AS\s+(\w+)", text, flags=re.M)
    assert [name for _, name in stages] == ["build", "runtime"]
    runtime = text.split("AS runtime", 1)[1]
    # The final stage installs nothing: it copies the built environment only.
    assert not re.search(r"^RUN .*(pip|uv|apt-get|gcc|make)\b", runtime, flags=re.M), runtime
    assert "COPY --from=build /opt/finance /opt/finance" in runtime
    assert re.search(r"^USER 10001:10001$", runtime, flags=re.M)
    # Dependencies come from the lock, frozen, without the dev group.
    assert "uv sync --frozen --no-dev --no-editable" in text
