"""The labs: one `Lab` object each (`lab.app.lab`), drawn by the page files in `lab/app/pages/`."""
