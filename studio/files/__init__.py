"""The graph file format: one versioned JSON file per graph (see docs/file-format.md).

``load``/``loads`` read a file into a ``studio.graph.Graph``, ``save``/``dumps``
write one back; a file that cannot be read raises ``GraphFileError`` naming the
file and the JSON path. Weights never live in a graph file.
"""

from .errors import GraphFileError, json_path
from .library_file import LIBRARY_FORMAT, import_library, read_library, save_library
from .migrations import FORMAT, MIGRATIONS, VERSION, migrate
from .reader import from_document, load, loads
from .writer import dumps, save, to_document

__all__ = [
    "FORMAT", "GraphFileError", "LIBRARY_FORMAT", "MIGRATIONS", "VERSION", "dumps", "from_document",
    "import_library", "json_path", "load", "loads", "migrate", "read_library", "save", "save_library",
    "to_document",
]
