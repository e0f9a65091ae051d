"""The labs: one `Lab` object each (`lab.app.flow`), drawn by the page files in `lab/app/pages/`."""
