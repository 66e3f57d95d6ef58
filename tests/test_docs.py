"""The documentation: every page listed in the site and opening with the list of its sections, every link of
the README resolving, product language only, and the site building with ``mkdocs build --strict``."""
import os
import re
import subprocess
import sys

import pytest
import yaml

from conftest import REPO

DOCS = os.path.join(REPO, "docs")
PAGES = sorted(f for f in os.listdir(DOCS) if f.endswith(".md"))


def _sections(text):
    found, fence = [], False
    for line in text.split("\n"):
        if line.startswith("```"):
            fence = not fence
        elif not fence and line.startswith("## "):
            found.append(line[3:].strip().replace("`", ""))
    return found


def _slug(title):
    """Python-Markdown's anchor for a heading (what MkDocs links to)."""
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", title).strip().lower())


def _nav_pages(nav):
    for entry in nav:
        for value in entry.values():
            yield from (_nav_pages(value) if isinstance(value, list) else [value])


def test_every_page_is_in_the_site_and_opens_with_its_sections():
    with open(os.path.join(REPO, "mkdocs.yml"), encoding="utf-8") as f:
        nav = sorted(_nav_pages(yaml.safe_load(f)["nav"]))
    assert nav == PAGES
    for page in PAGES:
        lines = open(os.path.join(DOCS, page), encoding="utf-8").read().split("\n")
        assert lines[0].startswith("# "), page
        listed = []
        for line in lines[1:]:
            if line.startswith("- ["):
                listed.append(line)
            elif line.strip() and listed:
                break
        expected = [f"- [{t}](#{_slug(t)})" for t in _sections("\n".join(lines))]
        assert listed == expected, page


def test_the_readme_is_short_and_its_links_resolve():
    text = open(os.path.join(REPO, "README.md"), encoding="utf-8").read()
    assert len(text.splitlines()) <= 260
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if not target.startswith(("http://", "https://")):
            assert os.path.exists(os.path.join(REPO, target)), target
    for needed in ("## Install", "## Quick start", "## Citing", "## Licence", "python -m pytest -q -n 2 --dist loadfile tests"):
        assert needed in text, needed


def test_product_documents_speak_of_the_product():
    pattern = re.compile(r"previous round|this round|in this review|\bSPEC\b|issue[ _-]?\d+|\.\./shared", re.I)
    for path in ["README.md"] + [os.path.join("docs", p) for p in PAGES]:
        text = open(os.path.join(REPO, path), encoding="utf-8").read()
        assert not pattern.search(text), (path, pattern.search(text).group(0))


def test_the_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs", reason="the docs extra (mkdocs) is not installed")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert os.path.isfile(tmp_path / "site" / "index.html")


def test_the_config_key_table_is_the_schemas():
    """docs/training.md's key table is generated from the schema; regenerate it with python -m ats_ms.configs --keys."""
    from ats_ms.config.reference import END, START, markdown
    text = open(os.path.join(REPO, "docs", "training.md"), encoding="utf-8").read()
    table = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert table == markdown()


def test_the_sample_setup_block_has_every_line_a_run_prints():
    """docs/training.md's sample setup block against the labels ats_ms.engine.setup_report prints (read from it)."""
    source = open(os.path.join(REPO, "ats_ms", "engine", "setup_report.py"), encoding="utf-8").read()
    labels = set(re.findall(r'"  ([a-z][a-z ]*[a-z]) {2,}', source)) | {"method"}
    text = open(os.path.join(REPO, "docs", "training.md"), encoding="utf-8").read()
    block = text.split("## What a run prints", 1)[1].split("```", 2)[1]
    printed = {line[2:12].strip() for line in block.splitlines() if line.startswith("  ")}
    assert len(labels) >= 9 and labels <= printed, labels - printed
