"""Soothe host tool: simulator control, sync, store, analysis and reports."""
__version__ = "0.4.0"
