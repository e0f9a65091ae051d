"""The page's longer explanations, as Markdown files read by `lab.app.texts`."""
