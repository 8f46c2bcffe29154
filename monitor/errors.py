"""The project's exception hierarchy; each message starts with the module that raised it and names
where the bad input came from (file, line, field, URL)."""


class MonitorError(Exception):
    """Base class for errors shown to the user without a traceback."""


class ConfigError(MonitorError):
    """feeds.yaml or a deployment setting is invalid."""


class FetchError(MonitorError):
    """A feed could not be fetched (network, HTTP status, limits, refused address)."""


class ParseError(MonitorError):
    """A fetched document could not be parsed into entries."""


class InputError(MonitorError):
    """A user-supplied file (JSON Lines input, corpus, stream) is malformed."""
