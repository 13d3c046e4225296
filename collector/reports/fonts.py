"""The CJK font every report is set in: WenQuanYi Micro Hei (Debian `fonts-wqy-microhei`).

One family for Chinese and Latin text alike, so a PDF has one embedded
(subset) font and looks the same wherever it is opened. Text and SVG charts
name the family as fontconfig knows it; only where fontconfig does not know
it (the file is there, fontconfig is not) is it loaded by `@font-face`. It is found through
fontconfig (`fc-list`), else at the paths Debian and Fedora install it; a
machine without it cannot make a readable Chinese report, so rendering
stops with `FontMissing` saying what to install, rather than producing
boxes where the characters should be.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

FAMILY = "WenQuanYi Micro Hei"
KNOWN_PATHS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),       # Debian, Ubuntu
    Path("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"),       # Fedora, Arch
    Path("/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc"),
)


class FontMissing(RuntimeError):
    """The CJK font is not installed; the message says how to install it."""


@cache
def registered() -> Path | None:
    """The font's file if fontconfig knows the family (then CSS and SVG name it and get the same face)."""
    if not shutil.which("fc-list"):
        return None
    try:
        listed = subprocess.run(["fc-list", f":family={FAMILY}", "file"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in listed.splitlines():
        path = Path(line.strip().rstrip(":"))
        if path.is_file():
            return path
    return None


@cache
def cjk_font() -> Path:
    """The font file of WenQuanYi Micro Hei, or FontMissing."""
    found = registered()
    if found is not None:
        return found
    for path in KNOWN_PATHS:
        if path.is_file():
            return path
    raise FontMissing(
        f"the CJK font {FAMILY!r} is not installed, so Chinese cannot be rendered in reports: "
        "install it (Debian/Ubuntu: apt-get install fonts-wqy-microhei; Fedora: dnf install wqy-microhei-fonts)"
    )
