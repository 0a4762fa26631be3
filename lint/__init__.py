"""pipelint: a linter and migration tool for Harness CI/CD YAML."""

__version__ = "0.1.0"
