"""GIL Lab: see what the Python GIL does, measured on your own machine.

The package is layered (see the README's layout table; `make lint` checks it):
`core` holds the nouns every lab shares, `engine` (CPU- and I/O-bound labs)
and `web` (the web-server lab) measure, `hosting` decides what a host runs,
`cli` and `app` are the two ways in. Importing `lab` itself loads nothing,
so the experiment's worker starts fast.
"""
