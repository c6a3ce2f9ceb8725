"""The documentation cannot rot: the generated references hold every config key, CLI verb and option
and public name; every command in README.md and the guide names a verb or tool that exists and its
flags parse (parsed only: training is far too slow to run here); the README stays a short guide whose
frontier table is the one tools/frontier.py wrote, and whose links lead to files that exist.
`mkdocs build --strict` (in .ci/run) checks the site's links and anchors."""
from __future__ import annotations

import ast
import dataclasses
import importlib.util
import re
import shlex
import typing
from pathlib import Path

import pytest

from kerasdet import config as config_module
from kerasdet.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
GUIDE = sorted((ROOT / "docs" / "guide").glob("*.md")) + [ROOT / "docs" / "index.md"]
MAX_README_LINES = 350
KERASDET = ("kerasdet", ".venv/bin/kerasdet")
PYTHON = ("python", "python3", ".venv/bin/python")
USER_FILES = ("configs/mine.yaml",)  # made by the reader in the commands themselves (cp configs/hands.yaml ...)


def _generator():
    spec = importlib.util.spec_from_file_location("gen_reference", ROOT / "docs" / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()


def _loader_keys() -> list[str]:
    """Every key the config loader accepts, walked from the dataclasses as `_build` walks them."""
    keys = []
    for section in dataclasses.fields(config_module.Config):
        if section.metadata.get("internal"):
            continue
        cls = typing.get_type_hints(config_module.Config)[section.name]
        keys += [f"{section.name}.{f.name}" for f in dataclasses.fields(cls) if not f.metadata.get("internal")]
    return keys


def _subparsers(parser):
    import argparse
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


# --- the generated references ---------------------------------------------------------------------

def test_every_config_key_is_in_the_reference_with_its_why_and_limits():
    page = GEN.config_reference()
    rows = {line.split("|")[1].strip().strip("`"): line for line in page.splitlines() if line.startswith("| `")}
    keys = _loader_keys()
    assert len(keys) > 40
    for key in keys:
        assert key in rows, f"config key {key} missing from the generated reference"
        section, name = key.split(".")
        field = {f.name: f for f in dataclasses.fields(type(getattr(config_module.Config(), section)))}[name]
        assert field.metadata.get("doc"), f"config key {key} has no line of why in kerasdet/config.py"
    for key, choices in config_module._CHOICES.items():
        for choice in choices:
            assert f"`{choice}`" in rows[key] or (choice == "" and '`""`' in rows[key]), (key, choice)
    for key, (low, high, low_open) in config_module._RANGES.items():
        assert f"{'>' if low_open else '>='} {low:g}" in rows[key], key
        if high is not None:
            assert f"<= {high:g}" in rows[key], key


def test_a_key_without_its_why_fails_the_build(monkeypatch):
    @dataclasses.dataclass
    class Bare:
        undocumented: int = 1

    (field,) = dataclasses.fields(Bare)
    monkeypatch.setattr(GEN, "config_keys", lambda: [("data.undocumented", field, int)])
    with pytest.raises(ValueError, match="data.undocumented"):
        GEN.config_reference()


def test_every_cli_verb_and_option_is_in_the_reference():
    page = GEN.cli_reference()
    verbs = _subparsers(build_parser())
    assert {"train", "evaluate", "export", "detect", "cam", "split", "stats", "convert"} <= set(verbs)
    for name, sub in verbs.items():
        assert f"## `{name}`" in page, f"CLI verb {name} missing from the generated reference"
        section = page.split(f"## `{name}`", 1)[1].split("\n## ", 1)[0]
        for action in sub._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}" in section, f"kerasdet {name} {option} missing from the CLI reference"


def test_every_public_name_is_in_the_api_reference():
    import kerasdet
    page = GEN.api_reference()
    for name in kerasdet.__all__:
        assert f"::: {kerasdet._API[name]}.{name}\n" in page, name


# --- the README and the guide -----------------------------------------------------------------------

def _bash_commands(path: Path):
    """(line number, tokens) of each command in the file's ```bash blocks: continuation lines joined,
    `&&` / `;` / `|` chains split, comments and leading VAR=value assignments dropped."""
    inside, pending, start = False, "", 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("```"):
            inside = line.strip() == "```bash" if not inside else False
            continue
        if not inside:
            continue
        pending, start = (pending + " " + line, start) if pending else (line, number)
        if pending.rstrip().endswith("\\"):
            pending = pending.rstrip()[:-1]
            continue
        tokens = shlex.split(pending, comments=True)
        pending = ""
        command = []
        for token in tokens + [";"]:
            if token in ("&&", ";", "|", "||"):
                while command and re.match(r"^[A-Z_]+=", command[0]):
                    command.pop(0)
                if command:
                    yield start, command
                command = []
            else:
                command.append(token)


def _tool_verb(source: str) -> str | None:
    """The kerasdet verb a tools/ script hands its arguments to, if it is one of those."""
    if "add_cam_arguments" in source:
        return "cam"
    match = re.search(r"kerasdet_main\(\[\s*\"([\w-]+)\"", source)
    return match.group(1) if match else None


def _tool_options(source: str) -> set[str]:
    options = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument":
            options |= {a.value for a in node.args if isinstance(a, ast.Constant) and str(a.value).startswith("-")}
    return options


def _check_set_keys(args, where: str) -> None:
    keys = set(_loader_keys())
    for text in getattr(args, "set", None) or []:
        key = text.split("=", 1)[0]
        assert key in keys, f"{where}: --set {key}: no such config key"


def _check_kerasdet(argv: list[str], where: str) -> None:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:
        pytest.fail(f"{where}: `kerasdet {' '.join(argv)}` does not parse (exit {stop.code})")
    _check_set_keys(args, where)
    config = getattr(args, "config", None)
    if isinstance(config, str) and config.startswith("configs/") and config not in USER_FILES:
        assert (ROOT / config).is_file(), f"{where}: {config} does not exist"


def _documented_commands():
    for path in [README, *GUIDE]:
        for number, tokens in _bash_commands(path):
            yield f"{path.relative_to(ROOT)}:{number}", tokens


def test_every_command_in_the_readme_and_the_guide_names_what_exists_and_parses():
    checked = 0
    for where, tokens in _documented_commands():
        if tokens[0] in KERASDET:
            _check_kerasdet(tokens[1:], where)
        elif tokens[0] in PYTHON and len(tokens) > 1 and tokens[1].startswith("tools/"):
            tool = ROOT / tokens[1]
            assert tool.is_file(), f"{where}: {tokens[1]} does not exist"
            source = tool.read_text()
            verb = _tool_verb(source)
            if verb:
                _check_kerasdet([verb, *tokens[2:]], where)
            else:
                known = _tool_options(source)
                for token in tokens[2:]:
                    if token.startswith("--"):
                        assert token.split("=", 1)[0] in known, f"{where}: {tokens[1]} has no option {token}"
        else:
            continue
        checked += 1
    assert checked >= 20


def test_the_readme_commands_are_checked():
    """The README's own commands are among those parsed above (the test cannot pass on the guide alone)."""
    readme = [tokens for _, tokens in _bash_commands(README)]
    verbs = {tokens[1] for tokens in readme if tokens[0] in KERASDET}
    assert {"demo", "split", "train", "evaluate", "export", "cam", "stats", "preview"} <= verbs
    assert any(tokens[:2] == ["python", "tools/frontier.py"] for tokens in readme)


def test_the_readme_is_a_short_guide():
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md is {len(lines)} lines; the studies go to docs/results/"


def test_the_readme_frontier_table_is_the_current_one():
    """The README's table is docs/frontier.md, which `python tools/frontier.py` writes: run it, copy the
    table, and add the run to docs/results/."""
    table = (ROOT / "docs" / "frontier.md").read_text().strip().splitlines()
    assert "\n".join(table) in README.read_text()
    assert "](docs/frontier.png)" in README.read_text()


def test_the_readme_links_lead_to_files_that_exist():
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README.read_text()):
        if not re.match(r"^[a-z]+://", target):
            assert (ROOT / target).exists(), f"README.md links {target}, which does not exist"


def test_every_study_is_in_the_results_index():
    results = ROOT / "docs" / "results"
    index = (results / "index.md").read_text()
    studies = sorted(p.name for p in results.glob("20*.md"))
    assert len(studies) >= 20
    for name in studies:
        assert re.match(r"^\d{4}-\d{2}-\d{2}-[a-z0-9-]+\.md$", name), name
        assert f"]({name})" in index, f"docs/results/{name} is not in docs/results/index.md"
