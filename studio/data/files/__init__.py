"""The user's own data: CSV, NumPy .npz, a folder of images, a text file."""

from . import csv_file, image_folder, npz_file, text_file  # noqa: F401  (each registers its loader)
