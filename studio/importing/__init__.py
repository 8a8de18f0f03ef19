"""Any traceable ``torch.nn.Module`` in, as editable blocks (torch.fx)."""
