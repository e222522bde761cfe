"""Who acts on what: an incoming-call message is for its recipient (the user, or the members of the
attention group) and for supervisors and admins, its registering user may read it; a note goes on
one's own attention (supervisors and admins: on anyone's)."""

from __future__ import annotations

from .conftest import Login, body

# The demo data (cti.db.seed): message 2 is from an unknown caller, registered by diego
# (group Express) for the group Sales (bruno's); ana is in the group Service.
TO_SALES = 2


async def test_a_message_is_for_its_recipients_supervisors_and_admins(login: Login) -> None:
    ana, bruno, diego, sofia = [await login(n) for n in ("ana", "bruno", "diego", "sofia")]
    path = f"/api/v1/messages/{TO_SALES}"
    for attempt in (
        ana.get(path),
        ana.patch(path, json={"to_user_id": 1}),  # re-route it to herself
        ana.post(f"{path}/finalize", json={}),
        ana.post(f"{path}/notes", json={"text": "mine now"}),
        ana.post(f"{path}/attention", json={"kind": "telesales"}),
        ana.post(
            f"{path}/postpone",
            json={"until": "2030-01-01T10:00:00Z", "reason": "x", "to_user_id": 1},
        ),
    ):
        resp = await attempt
        assert resp.status == 404, await resp.text()
        assert "price list" not in await resp.text()
    listed = await body(await ana.get("/api/v1/messages"))
    assert TO_SALES not in [m["id"] for m in listed]

    # diego registered it: he reads it, but it is the Sales group's to act on.
    assert (await body(await diego.get(path)))["description"].startswith("Unknown caller")
    refused = await diego.post(f"{path}/finalize", json={})
    assert refused.status == 403 and (await refused.json())["field"] == "message"

    noted = await body(await sofia.post(f"{path}/notes", json={"text": "call back"}), 201)
    assert noted["notes"][-1]["author"] == "sofia"
    done = await body(await bruno.post(f"{path}/finalize", json={}))
    assert done["finalized_by"] == "bruno"
    unchanged = await body(await sofia.get(path))
    assert unchanged["to_group_id"] is not None and unchanged["to_user_id"] is None


async def test_notes_go_on_ones_own_attention_supervisors_on_anyones(login: Login) -> None:
    ana, bruno, sofia = [await login(n) for n in ("ana", "bruno", "sofia")]
    # Message 1 is ana's: the attention made from it is hers.
    made = await body(
        await ana.post("/api/v1/messages/1/attention", json={"kind": "telemarketing"}), 201
    )
    notes = f"/api/v1/desk/attentions/{made['attention_id']}/notes"
    refused = await bruno.post(notes, json={"text": "not mine"})
    assert refused.status == 403 and (await refused.json())["field"] == "attention"
    assert (await body(await ana.post(notes, json={"text": "called back"})))["author"]
    assert (await body(await sofia.post(notes, json={"text": "checked"})))["author"]
    detail = await body(await ana.get(f"/api/v1/desk/attentions/{made['attention_id']}"))
    assert [n["text"] for n in detail["notes"]] == ["called back", "checked"]
