"""bhxh-monitor's service side: configuration, storage, collection, scheduling, web page and CLI."""

__version__ = "0.1.0"
