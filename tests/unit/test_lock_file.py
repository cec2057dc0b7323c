"""requirements.lock, what every install comes from, holds every dependency pyproject.toml names
(runtime and dev), at a version that satisfies it, and a hash for every package."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def locked() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes), from the lock's `name==version \\ --hash=...` entries."""
    text = (ROOT / "requirements.lock").read_text()
    entries = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        head = re.match(r"([A-Za-z0-9_.\-\[\]]+)==([^\s;\\]+)", block)
        if head:
            name = re.sub(r"[-_.]+", "-", head.group(1).split("[")[0]).lower()
            entries[name] = (head.group(2), re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return entries


def test_the_lock_pins_every_dependency_of_pyproject_at_a_version_it_allows_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    wanted += [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    pins = locked()
    assert len(pins) > len(wanted)  # and what they depend on
    for requirement in wanted:
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert name in pins, f"{name} is in pyproject.toml but not in requirements.lock: make lock"
        version, _ = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (name, version)
    assert all(hashes for _, hashes in pins.values())
