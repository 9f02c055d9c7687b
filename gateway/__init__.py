"""The HTTP gateway: REST API, Twilio webhooks and the web console."""
