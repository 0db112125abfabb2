"""The README as printed: every command of its bash blocks is checked against its own config, a
block never refuses its own earlier output, and its Python blocks name what the API has.

Running every block as written would train for hours; what can go wrong for a reader who copies
a line is a setting the config does not have, a group member that does not exist, a misspelt
script, or a line that writes over the line before (refused: an existing ``out=``). Those are
checked here for every line, in seconds. One block also runs end to end, in a short form.
"""

from __future__ import annotations

import ast
import re
import shlex

import pytest
from support import CONF_DIR, REPO_ROOT

README = REPO_ROOT / "README.md"
#: each console script and the config it composes
CONFIGS = {"train.py": "train", "generate.py": "generate", "dbtl.py": "dbtl",
           "scripts/simulate.py": "simulate"}
#: placeholders the README asks the reader to fill in, and a value that composes
PLACEHOLDERS = {"<run>": "run", "<time>": "time", "<partition>": "cpu"}


def _blocks(language: str) -> list[tuple[int, str]]:
    """(first line number, text) of each fenced block of ``language``."""
    blocks, current, start = [], None, 0
    for number, line in enumerate(README.read_text().splitlines(), 1):
        if line.startswith("```"):
            if current is None:
                current, start = ([] if line.strip() == f"```{language}" else None), number + 1
                if current is None and line.strip() != "```":
                    current = "other"  # another language: skipped until its closing fence
            else:
                if isinstance(current, list):
                    blocks.append((start, "\n".join(current)))
                current = None
            continue
        if isinstance(current, list):
            current.append(line)
    return blocks


def _commands() -> list[tuple[int, int, list[str]]]:
    """(block, line number, argv) of every ``python <script>`` line of the bash blocks."""
    found = []
    for block, (start, text) in enumerate(_blocks("bash")):
        for offset, line in enumerate(text.splitlines()):
            code = line.split("  #", 1)[0].strip()
            if not code.startswith("python "):
                continue
            for key, value in PLACEHOLDERS.items():
                code = code.replace(key, value)
            found.append((block, start + offset, shlex.split(code)[1:]))
    return found


COMMANDS = _commands()


def _first_of_sweeps(overrides: list[str]) -> list[str]:
    """A multirun's overrides with each sweep replaced by its first value (one job's config)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(overrides)
    out = []
    for override, text in zip(parsed, overrides, strict=True):
        if override.is_sweep_override():
            first = next(iter(override.sweep_string_iterator()))
            out.append(f"{override.get_key_element()}={first}")
        else:
            out.append(text)
    return out


def test_the_readme_has_commands_for_every_console_script():
    scripts = {argv[0] for _, _, argv in COMMANDS}
    assert set(CONFIGS) <= scripts


@pytest.mark.parametrize(("line", "argv"), [(line, argv) for _, line, argv in COMMANDS],
                         ids=[f"README:{line}" for _, line, _ in COMMANDS])
def test_each_readme_command_names_a_script_and_settings_it_has(line, argv):
    script, args = argv[0], [a for a in argv[1:] if a not in ("-m", "--multirun")]
    assert (REPO_ROOT / script).is_file(), f"README line {line}: no {script}"
    if script not in CONFIGS:
        return  # argparse scripts: their options are checked by their own tests
    from hydra import compose, initialize_config_dir

    from kinsynth.cli import resolvers  # noqa: F401  (the configs' resolvers)
    from kinsynth.generate.designs import register_resolvers

    register_resolvers()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(CONFIGS[script], overrides=_first_of_sweeps(args),
                      return_hydra_config=True)
    assert cfg is not None


def _out(argv: list[str]) -> str | None:
    """The file a command writes in the working folder (simulate.py's default too)."""
    given = next((a.split("=", 1)[1] for a in argv if a.startswith("out=")), None)
    if given is None and argv[0] == "scripts/simulate.py":
        return "simulated.csv"
    return given


def test_no_readme_line_writes_over_an_earlier_lines_output():
    """Copied top to bottom, a later line's out= would be refused as an existing file."""
    written: dict[str, int] = {}
    for _, line, argv in COMMANDS:
        out = _out(argv)
        if out is None or "-m" in argv or "overwrite=true" in argv:
            continue
        earlier = written.get(out)
        assert earlier is None, f"README line {line} writes {out}, as line {earlier} did"
        written[out] = line


def test_the_python_blocks_parse_and_name_the_api_that_exists():
    import kinsynth

    for start, text in _blocks("python"):
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id == "kinsynth"):
                assert hasattr(kinsynth, node.attr), f"README block at {start}: {node.attr}"


@pytest.mark.slow(seconds=25)
def test_the_first_command_block_runs_in_a_short_form(tmp_path, toy_csv):
    """README's train -> generate block, top to bottom, with few epochs and rows."""
    from support import run_cli

    (block,) = {b for b, line, argv in COMMANDS if argv[0] == "generate.py"} or {None}
    lines = [argv for b, _, argv in COMMANDS if b == block]
    run = tmp_path / "outputs" / "train" / "runs" / "run"
    short = {"n=1000": "n=50", "n=500": "n=30", "n=100000000": "n=2000"}
    ran = 0
    for argv in lines:
        if argv[0] != "generate.py":
            continue
        args = [short.get(a, a) for a in argv[1:]]
        if not ran:  # the run every generate line reads
            run_cli("train.py", f"data.path={toy_csv}", f"hydra.run.dir={run}",
                    "trainer.max_epochs=2", "callbacks.evaluation.figures=false",
                    "callbacks.evaluation.baselines=false", cwd=tmp_path)
        args = [f"run={run}" if a.startswith("run=") else a for a in args]
        if "check=true" in args:
            continue  # the simulator oracle needs the embedded data: the check tests cover it
        if any(a.endswith(".parquet") for a in args):
            pytest.importorskip("pyarrow")
        run_cli("generate.py", *args, cwd=tmp_path)
        ran += 1
    assert ran >= 2
    assert re.search(r"designs", " ".join(p.name for p in tmp_path.iterdir()))
