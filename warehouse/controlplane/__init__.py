"""Control-plane services: tenants, users and memberships, API keys, passwords.

Plain functions over a SQLAlchemy session, shared by the HTTP API and the CLI.
"""
