"""Each command as a user's shell runs it: a process of its own, one line on stderr, exit status 1.

The rest of the suite calls the same ``main`` in this process (``tests/support.py``: ``run_cli``),
a few milliseconds against 6-7 s of imports per process. These keep what only a real process
shows: the interpreter's exit status, no traceback printed by Hydra's or Python's own handlers,
and nothing left behind by the failed command.

An argument mistake is reported before torch and Lightning load, in 1-3 s instead of 8: the
packages load their heavy modules on first use (``kinsynth.core.lazy``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import CLI_ENVIRONMENT, run_cli

CASES = [
    # (command, arguments, words the error line names); OUT and MISSING stand for files in tmp
    ("train.py", ["data.path=MISSING", "hydra.run.dir=OUT"], ["MISSING"]),
    ("generate.py", ["n=3", "out=OUT"], ["run=", "missing"]),
    ("dbtl.py", ["designs_per_cycle=0", "hydra.run.dir=OUT"], ["designs_per_cycle=0"]),
    ("scripts/simulate.py", ["n=abc", "out=OUT", "workers=1"], ["n="]),
    ("scripts/report.py", ["MISSING"], ["MISSING"]),
]


@pytest.mark.parametrize(("command", "arguments", "words"), CASES,
                         ids=[case[0] for case in CASES])
def test_bad_input_exits_1_with_one_error_line_and_no_output(
    tmp_path: Path, command: str, arguments: list[str], words: list[str]
) -> None:
    out, missing = tmp_path / "out", tmp_path / "missing.csv"
    arguments = [a.replace("OUT", str(out)).replace("MISSING", str(missing)) for a in arguments]
    words = [w.replace("MISSING", str(missing)) for w in words]
    result = run_cli(command, *arguments, cwd=tmp_path, check=False, subprocess_=True)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], errors[0]
    # no finished marker, no designs: a failed command leaves nothing a later one could trust
    assert not out.exists() or not any(out.rglob("*.json")), sorted(out.rglob("*"))


def test_the_entry_points_check_arguments_before_loading_torch_and_lightning() -> None:
    """What each command imports before it checks its arguments holds neither torch, Lightning,
    sklearn nor scipy.stats (train.py checks its ``data.path`` file with
    ``kinsynth.data.io.check_file`` first)."""
    modules = ["kinsynth.cli.train", "kinsynth.data.io", "kinsynth.cli.generate",
               "kinsynth.cli.dbtl", "kinsynth.cli.simulate", "kinsynth.evaluate.report",
               "kinsynth.campaign", "kinsynth.core.writing", "kinsynth.core.counts",
               "kinsynth.simulate"]
    # sklearn and scipy.stats too: together another second before a campaign's or a report's check
    heavy = ("torch", "pytorch_lightning", "sklearn", "scipy.stats")
    code = (f"import sys\nfor m in {modules!r}: __import__(m)\n"
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**CLI_ENVIRONMENT, "PATH": "/usr/bin:/bin"}, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
