"""Channel providers: how one rendered message leaves the engine (outbox file, SMTP, webhook)."""
