"""The Convoy lab: how long a thread that only waits briefly for I/O queues for the GIL behind CPU threads.

A probe process answers UDP pings beside K pure-Python CPU threads, a client
process times each round trip, and the X-ray watches the probe's threads.
"""
