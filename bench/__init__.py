"""sitebench: measured work per joule, sized into megawatts."""

__version__ = "0.1.0"
