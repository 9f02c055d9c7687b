"""The HTTP gateway: REST API, Twilio webhooks and, later, the web console."""
