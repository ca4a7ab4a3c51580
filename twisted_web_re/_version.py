"""The version of twisted_web_re."""

__version__ = "0.1.0"
