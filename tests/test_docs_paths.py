"""The documents follow the code: every module and package they name exists where they say.

docs/architecture.md is how a newcomer finds their way; when a module moves, this
test names the line of the document that still points at the old place. Read from
the files, nothing is imported or run.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
DOCS = [ARCHITECTURE, ROOT / "README.md", *sorted((ROOT / "docs" / "reference").glob("*.md"))]
PACKAGES = ("app", "connectors")
TREE_PREFIXES = ("app/", "connectors/", "tests/", "build/", "tools/", "docs/", "resources/")
CODE = re.compile(r"`([^`\n]+)`")
WORD = re.compile(r"[A-Za-z_][\w./*-]*")
HOST = re.compile(r"/|\.(com|co|org|net|io)$")  # app.energycap.com is a host, not a module


def _named(path: Path) -> list[tuple[int, str]]:
    """(line number, word) for every word inside backticks in a document."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for code in CODE.findall(line):
            found += [(number, word.rstrip(".")) for word in WORD.findall(code)]
    return found


def _product_files() -> list[str]:
    """Every file and folder under app/ and connectors/, as 'app/core/x.py' / 'app/core/'."""
    names = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if "__pycache__" in path.parts:
                continue
            relative = path.relative_to(ROOT).as_posix()
            names.append(relative + "/" if path.is_dir() else relative)
    return names


def _exists(word: str) -> bool:
    """A repository path (globs allowed), as named from the repository root."""
    word = word.split("::")[0]
    if "*" in word:
        return any(ROOT.glob(word))
    return (ROOT / word).exists()


def _module_exists(dotted: str) -> bool:
    """`app.core.x` (a module or package), optionally followed by a name defined in it."""
    parts = dotted.split(".")
    for end in range(len(parts), 1, -1):
        base = ROOT.joinpath(*parts[:end])
        source = base.with_suffix(".py") if base.with_suffix(".py").is_file() else None
        if source is None and (base / "__init__.py").is_file():
            source = base / "__init__.py"
        if source is not None:
            rest = parts[end:]
            return (
                not rest or re.search(rf"\b{re.escape(rest[0])}\b", source.read_text()) is not None
            )
    return False


def test_every_path_and_module_the_documents_name_exists() -> None:
    product = _product_files()
    missing = []
    for doc in DOCS:
        for number, word in _named(doc):
            if word.startswith(TREE_PREFIXES):
                ok = _exists(word)
            elif re.match(r"(app|connectors)\.[a-z_]", word) and not re.search(HOST, word):
                ok = _module_exists(word)
            elif "/" in word and word.endswith((".py", ".toml")):  # relative: journal/accept.py
                ok = any(PurePosixPath(name).match(word) for name in product)
            else:
                continue
            if not ok:
                missing.append(f"{doc.relative_to(ROOT)}:{number}: {word}")
    assert not missing, "named in the documents but not in the tree:\n" + "\n".join(missing)


def _package_rows() -> dict[str, str]:
    """The package map of docs/architecture.md: package folder -> what its row names."""
    rows = {}
    for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        cells = line.split("|")
        if len(cells) >= 4 and cells[1].strip().startswith("`"):
            folder = CODE.findall(cells[1])[0]
            rows[folder] = "|".join(cells[2:])
    return rows


def test_each_module_in_the_package_map_is_in_its_package() -> None:
    wrong = []
    for folder, text in _package_rows().items():
        for word in {w for code in CODE.findall(text) for w in WORD.findall(code)}:
            if word.endswith(".py") and not list((ROOT / folder).rglob(Path(word).name)):
                wrong.append(f"{folder}: {word}")
    assert _package_rows(), "docs/architecture.md has no package map"
    assert not wrong, "the package map names modules its package does not hold:\n" + "\n".join(
        wrong
    )


def test_every_package_is_described_in_the_architecture() -> None:
    named = {word for _, word in _named(ARCHITECTURE) if word.endswith("/")}
    undescribed = []
    for package in PACKAGES:
        for init in sorted((ROOT / package).rglob("__init__.py")):
            folder = init.parent.relative_to(ROOT).as_posix() + "/"
            suffixes = {"/".join(folder.split("/")[i:]) for i in range(folder.count("/"))}
            if not named & suffixes:
                undescribed.append(folder)
    assert not undescribed, "packages docs/architecture.md does not describe: " + ", ".join(
        undescribed
    )
