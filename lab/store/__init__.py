"""The run store: measured runs that outlive the page's session (see lab.store.store)."""
