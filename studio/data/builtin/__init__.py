"""Built-in data sets: generated on the spot or shipped inside a package, never downloaded."""

# Import order is catalogue order: simplest first.
from . import toy  # noqa: F401  (each module registers its sets)
from . import gates  # noqa: F401
from . import functions  # noqa: F401
from . import sequences  # noqa: F401
from . import text  # noqa: F401
from . import classic  # noqa: F401
from . import graphs  # noqa: F401
from . import gan  # noqa: F401
