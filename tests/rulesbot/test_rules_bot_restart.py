"""The rules bot across a crash: the only process running it is killed (SIGKILL) mid-
conversation; the visitor goes on through another process; a fresh process answers what came
meanwhile, from the log, as the conversation stood, and nothing twice."""

from __future__ import annotations

from pathlib import Path

import trio

from chat.config import Settings
from tests.conftest import ServerProcess, free_port
from tests.helpers.chat import make_org, widget
from tests.rulesbot.test_rules_bot import RULES, _bot_says, _rules_bot


async def test_a_fresh_process_continues_the_conversation_from_the_log(
    settings: Settings, server_processes: list[ServerProcess], tmp_path: Path
) -> None:
    with trio.fail_after(90):
        with_bot = ServerProcess(settings, free_port())
        without = ServerProcess(
            settings.model_copy(update={"rules_bot_enabled": False}), free_port()
        )
        server_processes.extend([with_bot, without])
        await with_bot.start("bot-a", tmp_path)
        await without.start("web", tmp_path)
        org = await make_org(without.base)
        bot_id = await _rules_bot(org)
        async with widget(org) as (visitor, _):
            await visitor.say("hello")
            assert (await _bot_says(visitor, bot_id))["content"] == RULES["greeting"]
            with_bot.kill()  # the only rules bot gone: the next messages wait in the log
            await visitor.say("Pricing")
            await visitor.say("Contact the team")
            again = ServerProcess(settings, free_port())
            server_processes.append(again)
            await again.start("bot-b", tmp_path)
            assert (await _bot_says(visitor, bot_id))["content"] == "Plans start at 10 EUR."
            assert (await _bot_says(visitor, bot_id))["content"] == "Your name, please?"
            await visitor.say("Ada")
            assert (await _bot_says(visitor, bot_id))["content"] == "And your email?"
        said = [f["content"] for f in visitor.seen if f.get("type") == "message"]
        assert said.count(RULES["greeting"]) == 1 and said.count("Plans start at 10 EUR.") == 1
