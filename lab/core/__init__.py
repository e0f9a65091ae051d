"""The bottom layer: nouns every lab shares, with no knowledge of any lab, page or host.

Standard library only: the experiment's worker imports from here, and it must
start fast under interpreters that have no third-party packages at all.
"""
