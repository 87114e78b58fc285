"""Messaging channels. Each turns its platform's requests into handlers.Inbound values and back."""
