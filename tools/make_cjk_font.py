"""Make assets/fonts/NotoSansSC-Lessons.otf: the Chinese glyphs the lessons need, and no others.

The lessons show Chinese beside English. A machine without a CJK font would draw it as boxes,
so Studio bundles this subset of Noto Sans CJK SC (SIL Open Font License 1.1, assets/fonts/OFL.txt):
every character of every lesson file's "zh" texts, of the Chinese in studio/'s own code, and
CJK punctuation. The full collection is 19 MB; the subset about 220 KB.

Rerun it when a lesson's Chinese changes (tests/ui/test_cjk_font.py fails until then):

    apt-get download fonts-noto-cjk && dpkg-deb -x fonts-noto-cjk_*.deb /tmp/noto
    .venv/bin/pip install fonttools
    .venv/bin/python tools/make_cjk_font.py /tmp/noto/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

and commit assets/fonts/. fontTools is needed by this tool only, not by Studio or its tests.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LESSONS_DIR = ROOT / "studio" / "lessons" / "data"
OUT = ROOT / "assets" / "fonts" / "NotoSansSC-Lessons.otf"
FAMILY = "Noto Sans SC Lessons"  # the name studio/ui/fonts.py asks Qt for
SC_FACE = "Noto Sans CJK SC"  # the face to take from the collection

# CJK symbols and punctuation, and the fullwidth forms (，：（）！？ …).
PUNCTUATION = "".join(map(chr, range(0x3000, 0x3040))) + "".join(map(chr, range(0xFF01, 0xFF5F)))
CJK = re.compile("[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")


def lesson_chinese(directory: Path = LESSONS_DIR) -> dict[str, str]:
    """Each lesson file's "zh" texts, joined: {file name: text}."""
    def texts(node) -> list[str]:
        if isinstance(node, dict):
            return [v for k, v in node.items() if k == "zh" and isinstance(v, str)] + \
                [t for k, v in node.items() if k != "zh" for t in texts(v)]
        if isinstance(node, list):
            return [t for item in node for t in texts(item)]
        return []
    return {path.name: "".join(texts(json.loads(path.read_text(encoding="utf-8"))))
            for path in sorted(directory.glob("*.json"))}


def ui_chinese(root: Path = ROOT / "studio") -> dict[str, str]:
    """The CJK characters in Studio's own code, by file: {path: characters}."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        chars = "".join(CJK.findall(path.read_text(encoding="utf-8")))
        if chars:
            found[str(path.relative_to(ROOT))] = chars
    return found


def wanted() -> set[str]:
    text = "".join(lesson_chinese().values()) + "".join(ui_chinese().values()) + PUNCTUATION
    return {c for c in text if ord(c) > 0x7F}  # Latin stays in the UI's own font


def make(source: Path, out: Path = OUT) -> int:
    """Write the subset of ``source``'s SC face to ``out``; the number of glyphs it holds."""
    from fontTools import subset
    from fontTools.ttLib import TTCollection, TTFont

    if source.suffix.lower() == ".ttc":
        faces = [f for f in TTCollection(str(source)).fonts if f["name"].getDebugName(1) == SC_FACE]
        if not faces:
            raise SystemExit(f"{source}: no face named {SC_FACE!r} in this collection")
        font = faces[0]
    else:
        font = TTFont(str(source))
    options = subset.Options()
    options.layout_features += ["vert", "vrt2", "halt", "palt"]  # vertical forms, punctuation spacing
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # copyright, names, licence
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in wanted()])
    subsetter.subset(font)
    # A name of its own, so a system's full Noto Sans CJK SC is never taken for this subset.
    names = font["name"]
    for name_id, value in ((1, FAMILY), (3, f"{FAMILY};subset"), (4, FAMILY), (6, FAMILY.replace(" ", "")),
                           (16, FAMILY), (17, "Regular")):
        names.removeNames(nameID=name_id)
        names.setName(value, name_id, 3, 1, 0x409)
        names.setName(value, name_id, 1, 0, 0)
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [FAMILY.replace(" ", "")]
        cff[0].FamilyName = FAMILY
        cff[0].FullName = FAMILY
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(out))
    return len(font.getGlyphOrder())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="NotoSansCJK-Regular.ttc (or a Noto Sans SC .otf)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    glyphs = make(args.source, args.out)
    print(f"{args.out}: {glyphs} glyphs, {args.out.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
