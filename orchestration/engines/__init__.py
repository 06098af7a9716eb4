"""Sentiment engines behind one interface (base.py): vader (local default)."""
