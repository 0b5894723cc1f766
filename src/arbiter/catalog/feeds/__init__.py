"""One parser per price feed; each turns a real feed file into offers and a tally
(``aws_spot_advisor`` turns the Spot Advisor feed into interruption bands instead).

The registry of parsers by source name is :mod:`arbiter.catalog.feeds.registry`.
"""
