"""Flask extensions, created once at import and bound to each app in the factory."""

from flask_jwt_extended import JWTManager

jwt = JWTManager()
