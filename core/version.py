"""The core's version, against which plugins declare ``requires_core``."""
__version__ = "0.1.0"
