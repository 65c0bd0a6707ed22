# Stand-in for the PyPI package "querystring_parser" (not packaged by Debian),
# used only by the compatibility harness so MLflow's own server can run from
# its fetched source. Only parser.parse(qs, normalized=...) is provided.
