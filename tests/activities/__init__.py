"""The activities against real services they talk to (SMTP through aiosmtpd)."""
