"""Built-in plugins: cross-cutting behaviour every run gets, registered like any other plugin."""
