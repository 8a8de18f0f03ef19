"""The lessons' Chinese is drawn from the bundled font, so it shows on a machine without a CJK
font: every CJK character the lessons and the UI use is in it, and the widgets that show lesson
texts lay Chinese out without a missing glyph."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QRawFont, QTextLayout

from person import choose, press
from studio.lessons import lessons
from studio.ui.fonts import chinese_family
from studio.ui.settings import AppSettings

STUDIO = Path(__file__).resolve().parents[2] / "studio"
CJK = re.compile("[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")
RERUN = "rerun tools/make_cjk_font.py (its docstring says how) and commit assets/fonts/"


def chinese_in_use() -> dict[str, str]:
    """{where: its CJK characters} for every lesson's Chinese texts and Studio's own code."""
    found = {}
    for lesson in lessons():
        texts = [lesson.title, lesson.watch] + [t for e in lesson.experiments for t in (e.title, e.expect)]
        found[f"studio/lessons/data/{lesson.id}.json"] = "".join(CJK.findall("".join(t.get("zh", "") for t in texts)))
    for path in STUDIO.rglob("*.py"):
        found[str(path.relative_to(STUDIO.parent))] = "".join(CJK.findall(path.read_text(encoding="utf-8")))
    return {where: chars for where, chars in found.items() if chars}


def no_missing_glyph(font: QFont, text: str) -> bool:
    """``text`` in ``font`` (with Qt's fallbacks) has a glyph for every character: no boxes."""
    layout = QTextLayout(text, font)
    layout.beginLayout()
    layout.createLine()
    layout.endLayout()
    return all(0 not in run.glyphIndexes() for run in layout.glyphRuns())


def test_the_bundled_font_has_every_chinese_character_in_use(qapp):
    family = chinese_family()
    assert family == "Noto Sans SC Lessons", "assets/fonts/NotoSansSC-Lessons.otf did not load"
    font = QFont(family)
    font.setStyleStrategy(QFont.StyleStrategy.NoFontMerging)  # this font alone, not the system's
    raw = QRawFont.fromFont(font)
    assert raw.familyName() == family
    used = chinese_in_use()
    assert any(where.endswith(".json") for where in used) and "studio/ui/lessons.py" in used
    missing = {where: "".join(sorted({c for c in chars if not raw.supportsCharacter(ord(c))}))
               for where, chars in used.items()}
    missing = {where: chars for where, chars in missing.items() if chars}
    assert not missing, f"the bundled Chinese font lacks {missing}: {RERUN}"


def test_lesson_texts_and_start_screen_draw_chinese(make_window, config_dir, qtbot):
    AppSettings(config_dir).language = "zh"  # a person who reads Chinese
    window = make_window()
    window.open_at_start(None)
    screen = window.start_screen
    qtbot.waitUntil(screen.isVisible, timeout=2000)
    family = chinese_family()
    for button in screen.lesson_buttons.values():
        assert family in button.font().families() and no_missing_glyph(button.font(), button.text())

    press(window, Qt.Key_L, Qt.ControlModifier | Qt.ShiftModifier)
    panel = window.lessons_panel
    qtbot.waitUntil(panel.isVisible, timeout=2000)
    choose(panel.language_box, "English")
    choose(panel.language_box, "English + 中文")
    panel.show_lesson(lessons()[0].id)
    lesson = lessons()[0]
    assert panel.title.font().bold() and lesson.title["zh"] in panel.title.text()
    shown = [(panel.title, panel.title.text()), (panel.watch, lesson.watch["zh"]),
             (panel.list, panel.list.item(0).text()), (panel.language_box, panel.language_box.currentText()),
             (panel.outcome, "按“Train”训练并观察，然后试一个实验。")]
    shown += [(b, b.full_text) for b in panel.experiment_buttons]
    assert len(shown) > 5
    for widget, text in shown:
        assert CJK.search(text), text
        assert family in widget.font().families(), widget
        assert widget.font().families()[0] == window.font().family()  # English stays in the UI font
        assert no_missing_glyph(widget.font(), text), (widget, text)
