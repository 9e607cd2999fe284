"""Campaigns: outbound calling, run by a small repository object."""

from app.db.service import DatabaseService
from app.tables import CAMPAIGNS_TABLE


class CampaignRepository:
    def __init__(self, token: str, org_id: str) -> None:
        self.db = DatabaseService(token, org_id)
        self.org_id = org_id

    def get(self, campaign_id: str):
        return self.db.select_one(CAMPAIGNS_TABLE, {"id": campaign_id})

    def list(self):
        return self.db.select(CAMPAIGNS_TABLE, {"clerk_org_id": self.org_id})

    def pause(self, campaign_id: str):
        filters = {"id": campaign_id, "clerk_org_id": self.org_id}
        return self.db.update(CAMPAIGNS_TABLE, filters, {"status": "paused"})

    def save(self, campaign: dict):
        row = dict(campaign, clerk_org_id=self.org_id)
        return self.db.upsert(CAMPAIGNS_TABLE, row)

    def save_unscoped(self, campaign: dict):
        row = dict(campaign, status="draft")
        return self.db.upsert(table=CAMPAIGNS_TABLE, data=row)
