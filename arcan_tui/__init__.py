"""The application edge: the command line, the headless printer and the Textual front-end."""
