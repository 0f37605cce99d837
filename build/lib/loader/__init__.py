"""Loader for Hatch Bulk Export archives and HueChat, Texter and Hatch lead export files."""

__version__ = "0.1.0"
