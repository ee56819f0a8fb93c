"""Flask glue for the entity blueprints: the request's store, writes, errors and idempotency."""
