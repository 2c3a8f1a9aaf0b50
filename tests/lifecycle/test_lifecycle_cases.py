"""tests/preflight/cases/lifecycle-*.yml: bad input to a lifecycle playbook is refused before any host changes.

Same case format as tests/preflight/test_cases.py, plus `playbook:` (the playbook the case runs instead of
playbooks/preflight.yml). Nothing may be reached: see lifecycle_run.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from lifecycle_run import run

CASES = sorted((ROOT / "tests" / "preflight" / "cases").glob("lifecycle-*.yml"))


def test_there_are_lifecycle_cases():
    assert len(CASES) >= 10


@pytest.mark.parametrize("case_file", CASES, ids=[c.stem for c in CASES])
def test_lifecycle_input_is_refused(tmp_path, case_file: Path):
    case = yaml.safe_load(case_file.read_text(encoding="utf-8"))
    assert case.get("playbook", "").startswith("playbooks/"), f"{case_file.name}: name the playbook"
    assert case.get("expect"), f"{case_file.name}: list the expected message parts under expect"
    result, output = run(tmp_path, case["playbook"], case.get("vars"), hosts=case.get("hosts"))
    assert result.returncode == 2, f"{case_file.name} was not refused ({result.returncode}):\n{output[-3000:]}"
    for part in case["expect"]:
        assert part in output, f"{case_file.name}: {part!r} missing from the failure:\n{output[-3000:]}"
    assert "unreachable=1" not in output, f"{case_file.name}: a host was contacted:\n{output[-3000:]}"
    assert "changed=" not in output or "changed=0" in output
