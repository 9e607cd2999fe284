"""FastAPI dependencies."""

from fastapi import Header, HTTPException

from app.db.service import DatabaseService


def get_token(authorization: str = Header(...)) -> str:
    return authorization.removeprefix("Bearer ")


def get_org_id(x_org_id: str | None = Header(None)) -> str:
    if not x_org_id:
        raise HTTPException(status_code=403, detail="an organization is required")
    return x_org_id


def get_db(authorization: str = Header(...), x_org_id: str | None = Header(None)) -> DatabaseService:
    return DatabaseService(authorization.removeprefix("Bearer "), x_org_id)
