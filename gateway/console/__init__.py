"""The operations console: server-rendered pages in French for staff and
representatives, usable on a phone."""
