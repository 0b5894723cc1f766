"""One parser per price feed; each turns a real feed file into offers and a tally.

The registry of parsers by source name is :mod:`arbiter.catalog.feeds.registry`.
"""
