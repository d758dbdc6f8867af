"""course-engagement: the course health pipeline (generate, load, transform, orchestrate, export)."""

__version__ = "0.1.0"
