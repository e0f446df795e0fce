"""Reference solutions, one module per assignment. Trusted side only: never shipped to students."""
