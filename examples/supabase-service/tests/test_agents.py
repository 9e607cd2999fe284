"""Route tests with the database mocked out."""

from unittest.mock import MagicMock, patch

from app.db.service import DatabaseService
from app.routes import agents


def test_get_agent_returns_the_row():
    client = MagicMock()
    client.table("agents").select("*").eq("id", "a1").execute.return_value = MagicMock(data=[{"id": "a1"}])
    with patch("app.db.service.get_supabase_client", return_value=client):
        assert agents.get_agent("a1", token="t", org_id="o1") == {"id": "a1"}


def test_delete_agent_goes_through_the_service():
    with patch.object(DatabaseService, "delete", return_value=[]) as delete:
        agents.delete_agent("a1", db=DatabaseService())
    delete.assert_called_once_with("agents", {"id": "a1"})


def test_update_is_patched_on_the_chain(mocker):
    service = DatabaseService()
    mocker.patch.object(service.client.table("calls"), "update", return_value=MagicMock())
    mocker.patch.object(service, "select", return_value=[])
    assert service.get_call("c1", org_id="o1") is None
