"""Management commands of the tokens app."""
