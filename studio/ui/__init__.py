"""The Qt editor. Only this package imports PySide6; it renders the graph
document and changes it through undo commands."""
