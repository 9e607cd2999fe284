"""One admin connection for background work."""

from app.db.service import DatabaseAdminService

admin_db = DatabaseAdminService()
