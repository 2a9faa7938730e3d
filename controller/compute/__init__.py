"""Compute service layer: flavors and key pairs (servers come later)."""
