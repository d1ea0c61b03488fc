"""Built-in features, each a package registered as a plugin would be."""
