"""course-engagement: course health analytics: generate, load, transform, orchestrate, export."""

__version__ = "0.1.0"
