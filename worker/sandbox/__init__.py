"""Local stand-ins for the providers, used by ``tocsin dev`` without credentials
and by the tests: a Twilio-compatible HTTP server and an SMTP server."""
