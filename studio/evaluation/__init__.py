"""A trained network measured on the validation split, and applied to new inputs."""
