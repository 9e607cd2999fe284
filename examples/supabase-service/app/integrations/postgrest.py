"""A few calls straight to PostgREST, for the worker that has no supabase client."""

import httpx
import requests

from app.settings import SUPABASE_SERVICE_KEY, SUPABASE_URL

HEADERS = {"apikey": SUPABASE_SERVICE_KEY, "Authorization": f"Bearer {SUPABASE_SERVICE_KEY}"}


async def fetch_agent(agent_id: str) -> dict:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{SUPABASE_URL}/rest/v1/agents?id=eq.{agent_id}", headers=HEADERS)
        return response.json()[0]


def fetch_agent_scoped(agent_id: str, org_id: str) -> dict:
    url = f"{SUPABASE_URL}/rest/v1/agents?id=eq.{agent_id}&clerk_org_id=eq.{org_id}"
    return requests.get(url, headers=HEADERS, timeout=10).json()[0]


def create_voice(name: str) -> None:
    httpx.post(f"{SUPABASE_URL}/rest/v1/voices", json={"name": name, "provider": "eleven"}, headers=HEADERS)


def create_voice_scoped(name: str, org_id: str) -> None:
    httpx.post(f"{SUPABASE_URL}/rest/v1/voices", json={"name": name, "clerk_org_id": org_id}, headers=HEADERS)
