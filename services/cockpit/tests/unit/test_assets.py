"""The browser libraries the cockpit serves are exactly the pinned npm packages' files, and no
template or script names another host."""

import json
import re
from pathlib import Path

COCKPIT = Path(__file__).resolve().parents[2]
WEB = COCKPIT / "web"
VENDORED = {  # file served from cockpit/static/vendor -> (npm package, file in it)
    "htmx-{v}.min.js": ("htmx.org", "dist/htmx.min.js"),
    "chart-{v}.umd.min.js": ("chart.js", "dist/chart.umd.min.js"),
}


def test_vendored_files_are_pinned():
    """(tests/e2e/test_cockpit.py compares their bytes with the npm packages `make test-tools` installs.)"""
    pinned = json.loads((WEB / "package.json").read_text())["dependencies"]
    lock = json.loads((WEB / "package-lock.json").read_text())["packages"]
    for pattern, (package, _) in VENDORED.items():
        version = pinned[package]
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{package} is not pinned to one version"
        assert lock[f"node_modules/{package}"]["version"] == version
        assert (COCKPIT / "cockpit" / "static" / "vendor" / pattern.format(v=version)).exists()
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned["axe-core"])


def test_nothing_names_another_host():
    url = re.compile(r"""(?:src|href|action)\s*=\s*["'](?:https?:)?//""")
    for path in [*(COCKPIT / "cockpit" / "templates").glob("*.html"), COCKPIT / "cockpit" / "static" / "app.js",
                 COCKPIT / "cockpit" / "static" / "app.css"]:
        text = path.read_text()
        assert not url.search(text), path.name
        assert "@import" not in text and "url(http" not in text, path.name
