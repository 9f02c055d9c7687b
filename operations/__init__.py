"""The commands staff run on events, committees and reviews: one place for the CLI,
the API and the console alike."""
