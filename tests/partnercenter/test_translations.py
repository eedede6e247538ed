"""The zh-hans catalogue (DESIGN §9): every msgid translated, nothing fuzzy, the committed .mo built
from the committed .po, and no string in the code that makemessages would add untranslated."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

PROJECT_DIR = Path(settings.BASE_DIR)
CATALOGUE = PROJECT_DIR / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = CATALOGUE / "django.po"
MO = CATALOGUE / "django.mo"


def _msgfmt() -> str:
    tool = shutil.which("msgfmt")
    assert tool, "GNU gettext's msgfmt is needed (apt-get install gettext)"
    return tool


def _msgids(po_text: str) -> set[tuple[str, str]]:
    """(msgctxt, msgid) of every entry but the header, multi-line strings joined."""
    ids = set()
    for block in po_text.split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#~")]
        fields, current = {}, None
        for line in lines:
            match = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if match:
                current = match.group(1)
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if fields.get("msgid"):
            ids.add((fields.get("msgctxt", ""), fields["msgid"]))
    return ids


def test_every_msgid_is_translated_and_none_is_fuzzy():
    result = subprocess.run(
        [_msgfmt(), "--check", "--statistics", "-o", "/dev/null", str(PO)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    # "N translated messages." and nothing about fuzzy or untranslated ones.
    assert re.fullmatch(r"\d+ translated messages?\.", result.stderr.strip().splitlines()[-1]), result.stderr
    assert "#, fuzzy" not in PO.read_text(encoding="utf-8").split("\n\n", 1)[1]


def test_committed_mo_is_compiled_from_the_committed_po(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run([_msgfmt(), "--check", "-o", str(compiled), str(PO)], check=True, capture_output=True)
    assert MO.read_bytes() == compiled.read_bytes(), "run `manage.py compilemessages` and commit locale/*/django.mo"


def test_makemessages_finds_no_new_string(tmp_path):
    """A string wrapped in gettext / {% translate %} but missing from the catalogue fails here: run
    `manage.py makemessages -l zh_Hans`, translate, `manage.py compilemessages`, commit both. The
    command runs in a copy of the source tree, so the committed catalogue is never touched."""
    copy = tmp_path / "project"
    shutil.copytree(
        PROJECT_DIR, copy, symlinks=True,
        ignore=shutil.ignore_patterns(".venv", ".git", "var", "artifacts", "*_cache", "__pycache__", ".env"),
    )
    env = {**os.environ, "PARTNERCENTER_TESTING": "1", "PARTNERCENTER_VAR_DIR": str(tmp_path / "var")}
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans"], cwd=copy, env=env,
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    committed = PO.read_text(encoding="utf-8")
    regenerated = (copy / PO.relative_to(PROJECT_DIR)).read_text(encoding="utf-8")
    new = _msgids(regenerated) - _msgids(committed)
    assert not new, f"strings not in the zh_Hans catalogue: {sorted(new)}"
    gone = _msgids(committed) - _msgids(regenerated)
    assert not gone, f"catalogue entries no longer in the code (run makemessages): {sorted(gone)}"


@pytest.mark.parametrize(
    ("english", "chinese"),
    [("My Customers", "我的客户"), ("Allocate Credit", "分配额度"), ("Allocation Record", "分配记录"),
     ("Message Center", "消息中心"), ("Settings", "设置"), ("Confirm", "确定"), ("Cancel", "取消"),
     ("Customer Management", "客户管理"), ("Credit", "额度"), ("Used", "已用"), ("Available", "可用")],
)
def test_console_words_are_tencent_clouds(english, chinese):
    with translation.override("zh-hans"):
        assert translation.gettext(english) == chinese
    with translation.override("en"):
        assert translation.gettext(english) == english


def test_languages_are_english_and_simplified_chinese():
    assert [code for code, _ in settings.LANGUAGES] == ["en", "zh-hans"]
    assert settings.LANGUAGE_CODE == "en"
    middleware = settings.MIDDLEWARE
    assert middleware.index("django.contrib.sessions.middleware.SessionMiddleware") < middleware.index(
        "django.middleware.locale.LocaleMiddleware"
    ) < middleware.index("django.middleware.common.CommonMiddleware")
    assert middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware") < middleware.index(
        "partnercenter.middleware.MemberLanguageMiddleware"
    )
