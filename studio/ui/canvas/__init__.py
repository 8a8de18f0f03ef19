"""The canvas: a scene that follows the graph document, its items, and the view."""
