"""The vendored front-end files are there, listed with their licences, and referenced."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from chargegrid.dashboard import STATIC_DIR

VENDOR = STATIC_DIR / "vendor"
TEMPLATES = STATIC_DIR.parent / "templates"


def test_every_vendored_file_is_listed_with_its_licence_and_checksum() -> None:
    listing = (VENDOR / "VENDOR.md").read_text()
    checksums = dict(
        (path, digest) for digest, path in re.findall(r"^([0-9a-f]{64})  (\S+)$", listing, re.M)
    )
    packages = [path for path in VENDOR.iterdir() if path.is_dir()]
    assert len(packages) == 4
    for package in packages:
        assert f"`{package.name}/" in listing, package.name
        assert (package / "LICENSE").stat().st_size > 100
        for file in package.glob("*.[jc]s*"):
            relative = file.relative_to(VENDOR).as_posix()
            assert checksums[relative] == hashlib.sha256(file.read_bytes()).hexdigest()


def test_every_static_file_a_template_uses_exists() -> None:
    used = set()
    for template in TEMPLATES.rglob("*.html"):
        used |= set(re.findall(r'"/static/([^"?]+)', template.read_text()))
    assert "vendor/htmx.org-2.0.11/htmx.min.js" in used
    for path in used:
        assert (STATIC_DIR / path).is_file(), path


def test_no_template_loads_anything_from_elsewhere() -> None:
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', text), template
    assert not list(Path(STATIC_DIR).rglob("*.map"))
