"""People and their input: the web app's data, views, API, Polis interchange and constitution."""
