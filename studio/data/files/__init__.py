"""The user's own data: CSV, NumPy .npz, a folder of images, a text file."""

# Import order is catalogue order.
from . import csv_file  # noqa: F401  (each module registers its loader)
from . import npz_file  # noqa: F401
from . import image_folder  # noqa: F401
from . import text_file  # noqa: F401
