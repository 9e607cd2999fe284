"""Contacts: imported in bulk from uploaded files."""

from fastapi import APIRouter, Depends

from app.db.service import DatabaseService
from app.deps import get_db, get_org_id

router = APIRouter(prefix="/contacts")


@router.post("/import")
def import_contacts(rows: list[dict], db: DatabaseService = Depends(get_db)):
    payload = []
    for row in rows:
        payload.append({"first_name": row["first_name"], "phone": row["phone"]})
    return db.insert("contacts", payload)


@router.post("/import/scoped")
def import_contacts_scoped(rows: list[dict], org_id: str = Depends(get_org_id), db: DatabaseService = Depends(get_db)):
    payload = [{"first_name": row["first_name"], "phone": row["phone"], "clerk_org_id": org_id} for row in rows]
    return db.insert("contacts", payload)


@router.post("/folders")
def create_folder(name: str, org_id: str = Depends(get_org_id), db: DatabaseService = Depends(get_db)):
    row = {"name": name}
    row.update({"clerk_org_id": org_id})
    return db.insert("contact_folders", row)


@router.get("/search")
def search_contacts(phone: str, client_id: int, db: DatabaseService = Depends(get_db)):
    return db.select("contacts", {"phone": phone, "client_id": client_id})
