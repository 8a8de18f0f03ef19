import re
from pathlib import Path

from studio.data import catalog

DOC = Path(__file__).resolve().parents[2] / "docs" / "data.md"


def test_every_data_set_and_option_is_documented():
    text = DOC.read_text(encoding="utf-8")
    headings = set(re.findall(r"^### (.+)$", text, re.M))
    documented = {name for h in headings for name in re.findall(r"`([a-z_]+)`", h)}
    for entry in catalog():
        assert entry.name in documented, entry.name
        section = text[text.index(f"`{entry.name}`"):]
        for p in entry.options:
            assert f"`{p.name}`" in text or (p.name.startswith("augment_") and "`augment_*`" in section), \
                (entry.name, p.name)
