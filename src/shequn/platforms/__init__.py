"""Platform adapters: raw updates in, internal events out; actions through one port."""
