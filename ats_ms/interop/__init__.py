"""Weights from other frameworks and code bases."""
