"""Discord through the gateway (discord.py) and the REST API (v10).

``gateway`` translates raw dispatches into internal events and says what a group is
on Discord (a guild text channel) with ``state`` remembering the guilds; ``invites``
tells which invite a newcomer used; ``slash`` holds the slash commands; ``rest``
makes REST calls behind a transport seam; ``adapter`` joins them into the
:class:`DiscordAdapter`.
"""

from shequn.platforms.discord.adapter import INTENTS, DiscordAdapter, discordpy_gateway
from shequn.platforms.discord.gateway import Facts, translate
from shequn.platforms.discord.invites import InviteTracker
from shequn.platforms.discord.rest import AiohttpTransport, Response, RestClient, Transport
from shequn.platforms.discord.slash import SLASH_COMMANDS
from shequn.platforms.discord.state import GatewayState

__all__ = [
    "INTENTS",
    "SLASH_COMMANDS",
    "AiohttpTransport",
    "DiscordAdapter",
    "Facts",
    "GatewayState",
    "InviteTracker",
    "Response",
    "RestClient",
    "Transport",
    "discordpy_gateway",
    "translate",
]
