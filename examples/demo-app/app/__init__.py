"""The demo SaaS's Python service layer."""
