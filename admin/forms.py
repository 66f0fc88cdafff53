"""Form bodies of the staff pages (validated by the services, re-rendered with a message)."""

from __future__ import annotations

import msgspec


class LoginForm(msgspec.Struct):
    login: str = ""
    password: str = ""
    next: str = ""


class PasswordForm(msgspec.Struct):
    current: str = ""
    new: str = ""
    repeat: str = ""


class NewStaffForm(msgspec.Struct):
    login: str = ""
    display_name: str = ""
    role: str = ""
    password: str = ""
    team: str = ""
    max_chats: str = ""


class ProfileForm(msgspec.Struct):
    display_name: str = ""
    pseudonym: str = ""
    max_chats: str = ""


class RoleForm(msgspec.Struct):
    role: str = ""


class NameForm(msgspec.Struct):
    name: str = ""


class MemberForm(msgspec.Struct):
    staff_id: str = ""


class TopicForm(msgspec.Struct):
    slug: str = ""
    title: str = ""
    team_id: str = ""
    assignment: str = ""


class ChannelConnectForm(msgspec.Struct):
    kind: str = ""
    name: str = ""
    topic: str = ""
    receive: str = "poll"
    api_url: str = ""
    token: str = ""
    group_id: str = ""
    webhook_secret: str = ""
    confirmation: str = ""
