"""phase2: tell noise from real change in committed generated artifacts."""

__version__ = "0.1.0"
