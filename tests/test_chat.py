"""The realtime chat, end to end: a real server, real sockets, a real database."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
import websockets

from okno.platform import database
from okno.platform.staff.roles import Role
from tests.chat_support import Client, Staff, join_team, leave_team, log_rows, subject_of
from tests.conftest import ServerProcess, staff_client


@pytest.fixture
async def client(base_url):
    peer = await Client.open(base_url)
    yield peer
    await peer.close()


async def test_a_client_and_an_operator_exchange_messages(client, supervisor) -> None:
    ack = await client.say("Здравствуйте, где мой заказ?")
    assert (ack["seq"], ack["version"]) == (1, 1)
    mine = await client.message(seq=1)
    assert mine["author"] == {"kind": "subject", "name": None}

    history = await supervisor.open_conversation(ack["conversation"])
    assert [m["text"] for m in history] == ["Здравствуйте, где мой заказ?"]
    reply = await supervisor.say(ack["conversation"], "Добрый день! Уже смотрю.", reply_to=1)

    received = await client.message(seq=reply["seq"])
    assert received["text"] == "Добрый день! Уже смотрю."
    assert received["author"]["kind"] == "staff"
    assert received["reply_to"]["text"] == "Здравствуйте, где мой заказ?"
    joined = await client.message(author={"kind": "system", "name": None})
    assert "подключился оператор" in joined["text"]


async def test_resending_the_same_client_id_returns_the_same_seq_and_stores_nothing(client) -> None:
    client_id = str(uuid.uuid4())
    await client.send(type="send", client_id=client_id, text="один раз")
    first = await client.until("ack", client_id=client_id)
    await client.send(type="send", client_id=client_id, text="один раз")
    second = await client.until("ack", client_id=client_id)
    assert (first["seq"], first["version"]) == (second["seq"], second["version"])
    async with client.http() as http:
        stored = (await http.get("/api/chat/messages")).json()["messages"]
    assert [m["text"] for m in stored] == ["один раз"]


async def test_one_message_sent_from_many_tabs_at_once_is_stored_once(base_url, client) -> None:
    await client.say("первое сообщение")  # later sends take the one-statement path
    tabs = [client] + [await Client.open(base_url, client.cookies) for _ in range(5)]
    for _ in range(3):
        client_id = str(uuid.uuid4())
        await asyncio.gather(
            *(tab.send(type="send", client_id=client_id, text="из всех вкладок") for tab in tabs)
        )
        acks = [await tab.until("ack", client_id=client_id) for tab in tabs]
        assert len({(a["seq"], a["version"]) for a in acks}) == 1
    async with client.http() as http:
        stored = (await http.get("/api/chat/messages")).json()["messages"]
    assert [m["text"] for m in stored] == ["первое сообщение"] + ["из всех вкладок"] * 3
    for tab in tabs[1:]:
        await tab.close()


async def test_a_reconnecting_client_gets_exactly_what_it_missed_in_order(
    base_url, client, supervisor
) -> None:
    ack = await client.say("вопрос")
    conversation = ack["conversation"]
    await supervisor.open_conversation(conversation)
    await supervisor.say(conversation, "ответ 1")
    await client.message(text="ответ 1")
    await client.message(author={"kind": "system", "name": None})
    seen = max(f["message"]["version"] for f in client.frames if f["type"] == "message")
    await client.close()

    for n in (2, 3, 4):
        await supervisor.say(conversation, f"ответ {n}")
    again = Client(base_url, client.cookies)
    await again.connect("/ws/client")
    await again.send(type="resume", after=seen)
    synced = await again.until("synced")
    missed = [f["message"] for f in again.frames if f["type"] == "message"]
    assert [m["text"] for m in missed] == ["ответ 2", "ответ 3", "ответ 4"]
    assert [m["version"] for m in missed] == sorted(m["version"] for m in missed)
    assert synced["version"] == missed[-1]["version"]
    assert [f for f in await again.quiet(0.3) if f["type"] == "message"] == []
    await again.close()


async def test_several_tabs_of_one_client_stay_in_sync(base_url, client) -> None:
    second_tab = await Client.open(base_url, client.cookies)
    ack = await client.say("из первой вкладки")
    other = await second_tab.message(seq=ack["seq"])
    assert other["text"] == "из первой вкладки"
    await second_tab.close()


async def test_order_holds_under_concurrent_senders(client, supervisor) -> None:
    ack = await client.say("начало")
    conversation = ack["conversation"]
    await supervisor.open_conversation(conversation)

    async def client_burst() -> None:
        for n in range(15):
            await client.send(type="send", client_id=str(uuid.uuid4()), text=f"к{n}")

    async def staff_burst() -> None:
        for n in range(15):
            await supervisor.send(
                type="send", conversation=conversation, client_id=str(uuid.uuid4()), text=f"о{n}"
            )

    await asyncio.gather(client_burst(), staff_burst())
    await asyncio.sleep(1.5)
    await supervisor.quiet(0.5)
    got = [
        f["message"]
        for f in supervisor.frames
        if f["type"] == "message" and f["message"]["conversation"] == conversation
    ]
    versions = [m["version"] for m in got]
    assert versions == sorted(set(versions)), "versions arrive once each, in order"
    texts = [m["text"] for m in got]
    assert [t for t in texts if t.startswith("к")] == [f"к{n}" for n in range(15)]
    assert [t for t in texts if t.startswith("о")] == [f"о{n}" for n in range(15)]
    async with database.acquire() as conn:
        seqs = [
            r["seq"]
            for r in await conn.fetch(
                "SELECT seq FROM message WHERE conversation_id = $1 ORDER BY seq", conversation
            )
        ]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_two_server_processes_share_one_database(database_url, client, make_staff) -> None:
    other = ServerProcess(database_url)
    try:
        user = await make_staff(Role.SUPERVISOR)
        remote = await Staff.open(other.url, user.login)
        ack = await client.say("через первый процесс")
        await remote.open_conversation(ack["conversation"])
        await remote.say(ack["conversation"], "через второй процесс")
        assert (await client.message(text="через второй процесс"))["author"]["kind"] == "staff"
        await client.say("снова через первый")
        assert (await remote.message(text="снова через первый"))["author"]["kind"] == "subject"
        await remote.close()
    finally:
        other.stop()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "invalid_frame"),
        (json.dumps({"type": "shout"}), "invalid_frame"),
        (json.dumps({"type": "send", "text": "no client id"}), "invalid_frame"),
        (
            json.dumps({"type": "send", "client_id": str(uuid.uuid4()), "text": "x" * 4001}),
            "invalid_frame",
        ),
        (
            json.dumps({"type": "send", "client_id": str(uuid.uuid4()), "text": "   "}),
            "invalid_frame",
        ),
        (
            json.dumps({"type": "send", "client_id": str(uuid.uuid4()), "text": "hi", "extra": 1}),
            "invalid_frame",
        ),
        (
            json.dumps({"type": "send", "client_id": str(uuid.uuid4()), "text": "y" * 70000}),
            "too_large",
        ),
        (json.dumps({"type": "edit", "seq": 999, "text": "нет такого"}), "not_found"),
        (json.dumps({"type": "button", "seq": 1, "button": "resolved:yes"}), "not_found"),
    ],
)
async def test_a_bad_frame_gets_an_error_and_changes_nothing(client, raw, code) -> None:
    await client.say("до ошибки")
    await client.ws.send(raw)
    error = await client.until("error")
    assert error["code"] == code
    assert error["message"]
    async with client.http() as http:
        stored = (await http.get("/api/chat/messages")).json()["messages"]
    assert [m["text"] for m in stored] == ["до ошибки"]


async def test_a_flooding_connection_is_told_to_slow_down(client) -> None:
    for _ in range(60):
        await client.send(type="ping")
    await client.until("error", code="rate_limited")


async def test_internal_notes_never_reach_the_client(base_url, client, supervisor) -> None:
    ack = await client.say("вопрос")
    conversation = ack["conversation"]
    await supervisor.open_conversation(conversation)
    await supervisor.say(conversation, "заметка: клиент VIP", internal=True)
    await supervisor.say(conversation, "публичный ответ")
    await client.message(text="публичный ответ")
    assert not any(f["type"] == "message" and "VIP" in f["message"]["text"] for f in client.frames)
    async with client.http() as http:
        history = (await http.get("/api/chat/messages")).json()["messages"]
    assert "заметка: клиент VIP" not in [m["text"] for m in history]
    fresh = await Client.open(base_url, client.cookies)
    assert not any(f["type"] == "message" and "VIP" in f["message"]["text"] for f in fresh.frames)
    await fresh.close()


async def test_edit_and_delete_own_messages_within_the_window(client, supervisor) -> None:
    ack = await client.say("опечтака")
    await supervisor.open_conversation(ack["conversation"])
    await client.send(type="edit", seq=ack["seq"], text="опечатка")
    edited = await supervisor.message(seq=ack["seq"], text="опечатка")
    assert edited["edited_at"] is not None
    await client.send(type="delete", seq=ack["seq"])
    deleted = await supervisor.message(seq=ack["seq"], deleted=True)
    assert deleted["text"] == ""
    reply = await supervisor.say(ack["conversation"], "ответ оператора")
    await client.send(type="edit", seq=reply["seq"], text="чужое")
    assert (await client.until("error"))["code"] == "edit_window"
    async with database.acquire() as conn:
        await conn.execute(
            "UPDATE message SET created_at = now() - interval '1 day' WHERE conversation_id = $1",
            ack["conversation"],
        )
    old = await client.say("старое")
    async with database.acquire() as conn:
        await conn.execute(
            "UPDATE message SET created_at = now() - interval '1 day'"
            " WHERE conversation_id = $1 AND seq = $2",
            ack["conversation"],
            old["seq"],
        )
    await client.send(type="delete", seq=old["seq"])
    assert (await client.until("error"))["code"] == "edit_window"


async def test_typing_and_read_receipts_reach_the_other_side(client, supervisor) -> None:
    ack = await client.say("вы тут?")
    await supervisor.open_conversation(ack["conversation"])
    await client.send(type="typing")
    assert (await supervisor.until("typing"))["side"] == "client"
    await supervisor.send(type="typing", conversation=ack["conversation"])
    typing = await client.until("typing")
    assert typing["side"] == "staff"
    assert typing["name"]
    await supervisor.send(type="read", conversation=ack["conversation"], seq=ack["seq"])
    assert (await client.until("read"))["seq"] == ack["seq"]


async def test_the_unread_count_counts_client_messages_after_the_staff_read_mark(
    client, supervisor
) -> None:
    first = await client.say("первое")
    conversation = first["conversation"]
    await supervisor.until("conversation", id=conversation, unread=1)
    await supervisor.open_conversation(conversation)
    await supervisor.say(conversation, "ответ оператора")  # staff messages are not unread
    await supervisor.until("conversation", id=conversation, unread=1)
    second = await client.say("второе")
    third = await client.say("третье")
    await supervisor.until("conversation", id=conversation, unread=3)
    await supervisor.send(type="read", conversation=conversation, seq=second["seq"])
    await supervisor.until("conversation", id=conversation, unread=1)
    await supervisor.send(type="read", conversation=conversation, seq=third["seq"])
    await supervisor.until("conversation", id=conversation, unread=0)


async def test_a_client_writing_again_reopens_a_resolved_conversation(client, supervisor) -> None:
    ack = await client.say("спасибо")
    conversation = ack["conversation"]
    await supervisor.open_conversation(conversation)
    await supervisor.send(type="take", conversation=conversation)
    await supervisor.until("conversation", id=conversation, status="open")
    await supervisor.send(type="status", conversation=conversation, status="resolved")
    await supervisor.until("conversation", id=conversation, status="resolved")
    question = await client.message(author={"kind": "bot", "name": None})
    assert [b["id"] for b in question["buttons"]] == ["resolved:yes", "resolved:no"]
    await client.say("ой, ещё вопрос")
    await supervisor.until("conversation", id=conversation, status="open")


async def test_the_resolved_question_button_reopens_and_then_stays_as_the_answer(
    client, supervisor
) -> None:
    ack = await client.say("вопрос")
    conversation = ack["conversation"]
    await supervisor.open_conversation(conversation)
    await supervisor.send(type="take", conversation=conversation)
    await supervisor.send(type="status", conversation=conversation, status="resolved")
    question = await client.message(author={"kind": "bot", "name": None})
    await client.send(type="button", seq=question["seq"], button="resolved:no")
    # The question keeps the client's answer as its echo, and only that: nothing to press.
    chosen = [{"id": "resolved:no", "label": "Нет, остались вопросы", "chosen": True}]
    assert (await client.message(seq=question["seq"], buttons=chosen))["seq"] == question["seq"]
    await supervisor.until("conversation", id=conversation, status="open")
    await client.send(type="button", seq=question["seq"], button="resolved:no")
    assert (await client.until("error"))["code"] == "not_found"


async def test_every_step_writes_its_processing_log_rows(client, supervisor, make_staff) -> None:
    ack = await client.say("мой первый вопрос")
    conversation = ack["conversation"]
    subject = await subject_of(conversation)
    await client.say("второй")
    await supervisor.open_conversation(conversation)
    target = await make_staff(Role.OPERATOR)
    await supervisor.send(type="transfer", conversation=conversation, to_staff=target.id)
    await supervisor.until("conversation", id=conversation)
    third = await client.say("третий")
    await client.send(type="delete", seq=third["seq"])
    await client.message(seq=third["seq"], deleted=True)
    rows = await log_rows(subject)
    actions = [action for action, _, _ in rows]
    assert actions[:3] == ["recording", "storage", "collection"]
    assert actions.count("recording") == 3
    assert actions.count("storage") == 3
    assert ("access", "staff", ["message_text"]) in rows
    assert actions.count("access") >= 2  # opening, and the transfer to another operator
    assert rows[-1] == ("deletion", "subject", ["message_text"])


async def test_sockets_without_identity_or_with_the_wrong_role_are_closed(
    base_url, make_staff
) -> None:
    ws_url = base_url.replace("http", "ws")
    for path, cookie, code in [
        ("/ws/client", "", 4401),
        ("/ws/client", "okno_visitor=forged", 4401),
        ("/ws/staff", "", 4401),
        ("/ws/staff", "okno_staff=forged", 4401),
    ]:
        async with websockets.connect(ws_url + path, additional_headers={"cookie": cookie}) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd.code == code
    dpo = await make_staff(Role.DPO)
    http = await staff_client(base_url, dpo.login)
    async with websockets.connect(
        ws_url + "/ws/staff",
        additional_headers={"cookie": f"okno_staff={http.cookies['okno_staff']}"},
    ) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd.code == 4403
    await http.aclose()


async def test_an_operator_reaches_only_conversations_of_their_teams(
    base_url, client, make_staff
) -> None:
    ack = await client.say("вопрос для команды")
    conversation = ack["conversation"]
    outsider_user = await make_staff(Role.OPERATOR)
    await leave_team(outsider_user.id)  # new operators join «Поддержка»: this one is in no team
    outsider = await Staff.open(base_url, outsider_user.login)
    frames = [
        {"type": "open", "conversation": conversation},
        {
            "type": "send",
            "conversation": conversation,
            "client_id": str(uuid.uuid4()),
            "text": "чужое",
        },
        {"type": "edit", "conversation": conversation, "seq": 1, "text": "x"},
        {"type": "delete", "conversation": conversation, "seq": 1},
        {"type": "read", "conversation": conversation, "seq": 1},
        {"type": "typing", "conversation": conversation},
        {"type": "take", "conversation": conversation},
        {"type": "transfer", "conversation": conversation, "to_team": 1},
        {"type": "status", "conversation": conversation, "status": "resolved"},
    ]
    for frame in frames:
        await outsider.send(**frame)
        error = await outsider.until("error")
        assert error["code"] == "not_found", frame
    http = outsider.http_client
    http.headers["accept"] = "application/json"
    assert (await http.get(f"/api/staff/conversations/{conversation}/messages")).status_code == 404
    assert (await http.get(f"/api/staff/conversations/{conversation}/profile")).status_code == 404
    queue = (await http.get("/api/staff/conversations", params={"box": "queue"})).json()
    assert conversation not in [c["id"] for c in queue["conversations"]]
    assert (await http.get("/api/staff/conversations", params={"box": "all"})).status_code == 403
    await outsider.close()

    await join_team(outsider_user.id)
    member = await Staff.open(base_url, outsider_user.login)
    history = await member.open_conversation(conversation)
    assert history[0]["text"] == "вопрос для команды"
    await member.close()


async def test_a_client_reaches_only_their_own_data(base_url, client) -> None:
    ack = await client.say("мой секрет")
    stranger = await Client.open(base_url)
    await stranger.say("другой клиент")
    async with stranger.http() as http:
        texts = [m["text"] for m in (await http.get("/api/chat/messages")).json()["messages"]]
    assert texts == ["другой клиент"]
    assert not any(
        f["type"] == "message" and f["message"]["conversation"] == ack["conversation"]
        for f in stranger.frames
    )
    async with httpx.AsyncClient(base_url=base_url) as anonymous:
        assert (
            await anonymous.get("/api/chat/messages", headers={"accept": "application/json"})
        ).status_code == 401
    await stranger.close()


async def test_a_blocked_subjects_text_never_reaches_staff_lists(client, supervisor) -> None:
    from okno.platform.rights import blocking

    ack = await client.say("до блокирования")
    subject = uuid.UUID(await subject_of(ack["conversation"]))
    await blocking.block(subject, None, reason="проверка жалобы")
    await client.say("секрет после блокирования")
    summary = await supervisor.until("conversation", id=ack["conversation"], version=2)
    assert summary["last_message"]["preview"] == "Данные клиента заблокированы"
    assert not any("секрет" in json.dumps(frame, ensure_ascii=False) for frame in supervisor.frames)
    await blocking.unblock(subject, None)


async def test_an_unsent_staff_upload_is_only_its_uploaders(base_url, make_staff) -> None:
    author = await staff_client(base_url, (await make_staff(Role.OPERATOR)).login)
    colleague = await staff_client(base_url, (await make_staff(Role.SUPERVISOR)).login)
    uploaded = await author.post(
        "/api/staff/attachments",
        files={"file": ("draft.txt", b"draft notes", "text/plain")},
        headers={"x-csrf-token": author.csrf},
    )
    assert uploaded.status_code == 201, uploaded.text
    url = uploaded.json()["url"]
    assert (await author.get(url)).status_code == 200
    assert (await colleague.get(url, headers={"accept": "application/json"})).status_code == 404
    await author.aclose()
    await colleague.aclose()
